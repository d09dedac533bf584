/*
 * wsc: WebSocket client connections for the load tool, on libwebsockets'
 * client side driven by the tool's own libuv loop (the daemon's shape: a
 * foreign loop, never lws_service). A connection is a struct wsc_conn the
 * caller owns and keeps in place while it is open; wsc tells the caller
 * what happens to it through one ops table. Whole text messages are handed
 * up (fragments are put together here), and frames go out only from the
 * writable callback, one per call, asked for through lwsout (no POLLOUT
 * arming per frame, as in the daemon).
 */
#ifndef LOAD_WSC_H
#define LOAD_WSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>
#include <uv.h>

#include "dynbuf.h"
#include "lwsout.h"

#define WSC_MAX_ENDPOINTS 16
#define WSC_TX_MAX        8192 /* largest frame a caller may write */
#define WSC_RX_MAX        (1 << 20)

struct wsc_conn;

/* What wsc tells its owner. Each connection that wsc_open accepted gets
 * exactly one on_closed, after which wsc no longer touches it. */
struct wsc_ops {
    /* The upgrade completed. */
    void (*on_open)(struct wsc_conn *c);
    /* One whole text message; buf lives only for the call. */
    void (*on_message)(struct wsc_conn *c, const char *buf, size_t len);
    /* The socket can take a frame: write at most cap bytes into buf and
     * return their number (0: nothing to send). Asked for with
     * wsc_want_write. */
    size_t (*on_writable)(struct wsc_conn *c, char *buf, size_t cap);
    /* The connection is over. opened: it had been established; code: the
     * close code the server sent (0 if none). */
    void (*on_closed)(struct wsc_conn *c, bool opened, int code);
};

enum wsc_state { WSC_IDLE = 0, WSC_CONNECTING, WSC_OPEN, WSC_CLOSING };

struct wsc_endpoint {
    char host[64];
    int port;
};

/* One client context. Counters cover every connection. */
struct wsc {
    uv_loop_t *loop;
    struct lws_context *ctx;
    const struct wsc_ops *ops;
    struct lwsout out;
    struct wsc_endpoint ep[WSC_MAX_ENDPOINTS];
    int n_ep;
    unsigned char tx[LWS_PRE + WSC_TX_MAX];
    uint64_t n_opened, n_failed, n_closed;
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    char last_error[128]; /* the latest connect failure, for the report */
};

struct wsc_conn {
    struct wsc *w;
    struct lws *wsi;
    enum wsc_state state;
    int ep;           /* index into w->ep */
    int close_code;   /* from the server's close frame */
    struct dynbuf rx; /* reassembly of fragmented messages (owned) */
    struct lwsout_item out;
    void *data; /* the owner's */
};

/* Parses "ws://host:port" (or "host:port") into w->ep. Returns 0 or -1. */
int wsc_add_endpoint(struct wsc *w, const char *url);

/* Creates the lws context on loop. Returns 0 or -1. */
int wsc_init(struct wsc *w, uv_loop_t *loop, const struct wsc_ops *ops);

/* Starts connecting c to endpoint ep at path. Returns 0, after which
 * on_closed comes exactly once; or -1 (no callback: nothing started). */
int wsc_open(struct wsc *w, struct wsc_conn *c, int ep, const char *path);

/* Asks for one on_writable call. */
void wsc_want_write(struct wsc_conn *c);

/* Closes with 1000 from the next writable turn (a close frame goes out, so
 * the server sees a clean leave). */
void wsc_close(struct wsc_conn *c);

/* Destroys the context, closing every connection, and runs the loop until
 * lws has let go of it. */
void wsc_destroy(struct wsc *w);

#endif
