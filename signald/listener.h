/*
 * listener: the node's own listening socket. Each accepted connection is
 * held until its request line has arrived (peeked, not read), so that the
 * WebSocket path is checked exactly as the client sent it: libwebsockets
 * decodes and cleans paths before anyone sees them. A bad path gets its
 * HTTP 400 or 404 here; everything else is handed to libwebsockets.
 */
#ifndef SIGNALD_LISTENER_H
#define SIGNALD_LISTENER_H

#include <stdint.h>

#include <libwebsockets.h>
#include <uv.h>

struct listener {
    uv_loop_t *loop;
    struct lws_vhost *vhost;
    int fd;
    uv_poll_t poll;
    lws_dll2_owner_t pending; /* accepted, request line not complete yet */
    uint64_t n_refused;       /* bad paths answered here */
};

/* Binds host:port and starts accepting. Returns 0, or -1 with errno set
 * and the reason logged. */
int listener_start(struct listener *l, uv_loop_t *loop, struct lws_vhost *vhost, const char *host,
                   int port);

/* Stops accepting and closes the sockets still pending. Their memory is
 * freed by close callbacks: run the loop afterwards. */
void listener_stop(struct listener *l);

#endif
