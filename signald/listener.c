/*
 * listener: see listener.h.
 */
#include "listener.h"

#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "log.h"
#include "wspath.h"

#define LISTENER_BACKLOG    1024
#define LISTENER_PEEK       4096 /* a request line longer than this is refused */
#define LISTENER_TIMEOUT_MS 10000
#define LISTENER_RETRY_MS   5 /* re-peek delay while a request line is incomplete */

/* One accepted socket waiting for its request line. */
struct listener_pending {
    struct listener *l;
    int fd;
    uv_poll_t poll;
    uv_timer_t timer;
    int closing; /* handles still to close */
    bool adopt;  /* hand the socket to lws once the handles are closed */
    uint64_t deadline_ms;
    lws_dll2_t link;
};

static void listener_pending_closed(uv_handle_t *h) {
    struct listener_pending *p = h->data;
    if (--p->closing > 0)
        return;
    if (p->adopt) {
        /* On failure lws closes the socket itself. */
        lws_adopt_socket_vhost(p->l->vhost, p->fd);
    } else {
        close(p->fd);
    }
    free(p);
}

static void listener_pending_end(struct listener_pending *p, bool adopt) {
    lws_dll2_remove(&p->link);
    p->adopt = adopt;
    p->closing = 2;
    uv_close((uv_handle_t *)&p->poll, listener_pending_closed);
    uv_close((uv_handle_t *)&p->timer, listener_pending_closed);
}

static void listener_refuse(struct listener_pending *p, int status) {
    char buf[256];
    int n = http_refusal(buf, sizeof(buf), status);
    /* Best effort: the socket is fresh, its buffer empty. */
    if (n > 0 && send(p->fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
        log_debug("event=refusal_unsent err=\"%s\"", strerror(errno));
    shutdown(p->fd, SHUT_WR);
    p->l->n_refused++;
    listener_pending_end(p, false);
}

/* Checks the request line if it is all there. Returns 1 when decided. */
static int listener_check(struct listener_pending *p) {
    char buf[LISTENER_PEEK];
    ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n <= 0) {
        listener_pending_end(p, false);
        return 1;
    }
    const char *eol = memchr(buf, '\n', (size_t)n);
    if (!eol) {
        if ((size_t)n == sizeof(buf))
            listener_refuse(p, 400);
        return (size_t)n == sizeof(buf);
    }
    /* "GET /target HTTP/1.1": only WebSocket paths are ours to judge. */
    const char *sp = memchr(buf, ' ', (size_t)(eol - buf));
    const char *target = sp ? sp + 1 : NULL;
    const char *sp2 = target ? memchr(target, ' ', (size_t)(eol - target)) : NULL;
    if (target && sp2 && (size_t)(sp2 - target) >= 4 && memcmp(target, "/ws/", 4) == 0) {
        struct wspath path;
        int status = wspath_parse(target, (size_t)(sp2 - target), &path);
        if (status != WSPATH_OK) {
            listener_refuse(p, status);
            return 1;
        }
    }
    listener_pending_end(p, true);
    return 1;
}

static void listener_on_timer(uv_timer_t *t);

static void listener_on_readable(uv_poll_t *h, int status, int events) {
    struct listener_pending *p = h->data;
    (void)events;
    if (status < 0) {
        listener_pending_end(p, false);
        return;
    }
    if (listener_check(p))
        return;
    /* Incomplete: the peeked bytes stay readable, so wait a little rather
     * than spin on a level-triggered poll. */
    uv_poll_stop(&p->poll);
    uv_timer_start(&p->timer, listener_on_timer, LISTENER_RETRY_MS, 0);
}

static void listener_on_timer(uv_timer_t *t) {
    struct listener_pending *p = t->data;
    if (clock_mono_ms() >= p->deadline_ms) {
        listener_pending_end(p, false);
        return;
    }
    uv_poll_start(&p->poll, UV_READABLE, listener_on_readable);
}

static void listener_on_accept(uv_poll_t *h, int status, int events) {
    struct listener *l = h->data;
    (void)events;
    if (status < 0)
        return;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_warn("event=accept_failed err=\"%s\"", strerror(errno));
            return;
        }
        /* Frames are small and written as soon as they are due: Nagle's
         * algorithm would hold the second of two behind the first's ACK. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct listener_pending *p = calloc(1, sizeof(*p));
        if (!p || uv_poll_init(l->loop, &p->poll, fd) != 0) {
            free(p);
            close(fd);
            continue;
        }
        p->l = l;
        p->fd = fd;
        p->deadline_ms = clock_mono_ms() + LISTENER_TIMEOUT_MS;
        p->poll.data = p->timer.data = p;
        uv_timer_init(l->loop, &p->timer);
        lws_dll2_add_tail(&p->link, &l->pending);
        uv_poll_start(&p->poll, UV_READABLE, listener_on_readable);
    }
}

int listener_start(struct listener *l, uv_loop_t *loop, struct lws_vhost *vhost, const char *host,
                   int port) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char service[16];
    int one = 1;

    l->loop = loop;
    l->vhost = vhost;
    l->fd = -1;
    snprintf(service, sizeof(service), "%d", port);
    int rc = getaddrinfo(host && *host ? host : NULL, service, &hints, &ai);
    if (rc != 0) {
        log_error("event=listen_failed bind=%s port=%d err=\"%s\"", host, port, gai_strerror(rc));
        return -1;
    }
    l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(l->fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(l->fd, LISTENER_BACKLOG) < 0) {
        log_error("event=listen_failed bind=%s port=%d err=\"%s\"", host, port, strerror(errno));
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    uv_poll_init(loop, &l->poll, l->fd);
    l->poll.data = l;
    uv_poll_start(&l->poll, UV_READABLE, listener_on_accept);
    log_info("event=listening bind=%s port=%d", host, port);
    return 0;
}

static void listener_closed(uv_handle_t *h) {
    struct listener *l = h->data;
    close(l->fd);
    l->fd = -1;
}

void listener_stop(struct listener *l) {
    if (l->fd < 0)
        return;
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&l->pending)) {
        listener_pending_end(lws_container_of(d, struct listener_pending, link), false);
    }
    lws_end_foreach_dll_safe(d, d1);
    uv_close((uv_handle_t *)&l->poll, listener_closed);
}
