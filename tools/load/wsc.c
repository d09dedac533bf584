/*
 * wsc: see wsc.h. Every lws callback for a connection arrives with the
 * struct wsc_conn as its user pointer (passed as userdata at connect), so
 * no lookup table is needed. A connection leaves through one function,
 * wsc_finish, whichever of the error, closed and destroy callbacks comes
 * first.
 */
#include "wsc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WSC_CONNECT_TIMEOUT_S 20
#define WSC_LOG_LINES_MAX     10 /* lws error lines echoed, then counted only */
#define WSC_CLOSE_WAIT_S      5  /* for the server to end the connection after our close */

/* lws_write's close opcode: internal to lws 4.1, left out of its public
 * header in favour of lws_close_reason (which a client cannot use to send
 * a close frame, see wsc_writable). */
#define WSC_WRITE_CLOSE ((enum lws_write_protocol)4)

static unsigned wsc_log_lines;

static void wsc_lws_log(int level, const char *line) {
    (void)level;
    if (wsc_log_lines++ < WSC_LOG_LINES_MAX)
        fprintf(stderr, "signald-load: lws: %s", line);
}

int wsc_add_endpoint(struct wsc *w, const char *url) {
    char buf[256];
    const char *prot, *addr, *path;
    int port = 0;
    if (w->n_ep >= WSC_MAX_ENDPOINTS)
        return -1;
    if (strstr(url, "://"))
        snprintf(buf, sizeof(buf), "%s", url);
    else
        snprintf(buf, sizeof(buf), "ws://%s", url);
    if (lws_parse_uri(buf, &prot, &addr, &port, &path) || strcmp(prot, "ws") != 0 || !*addr ||
        port <= 0 || strlen(addr) >= sizeof(w->ep[0].host))
        return -1;
    struct wsc_endpoint *ep = &w->ep[w->n_ep++];
    snprintf(ep->host, sizeof(ep->host), "%s", addr);
    ep->port = port;
    return 0;
}

/* Called once per connection, whatever ended it. */
static void wsc_finish(struct wsc_conn *c) {
    struct wsc *w = c->w;
    bool opened = c->state == WSC_OPEN || c->state == WSC_CLOSING;
    if (c->state == WSC_IDLE)
        return;
    c->state = WSC_IDLE;
    c->wsi = NULL;
    lwsout_cancel(&c->out);
    dynbuf_free(&c->rx);
    if (opened)
        w->n_closed++;
    else
        w->n_failed++;
    w->ops->on_closed(c, opened, c->close_code);
}

static int wsc_receive(struct wsc_conn *c, const char *in, size_t len) {
    struct wsc *w = c->w;
    bool done = lws_is_final_fragment(c->wsi) && lws_remaining_packet_payload(c->wsi) == 0;
    w->bytes_in += len;
    if (done && c->rx.len == 0) {
        w->frames_in++;
        w->ops->on_message(c, in, len);
        return 0;
    }
    if (dynbuf_append(&c->rx, in, len, WSC_RX_MAX) < 0)
        return -1;
    if (done) {
        w->frames_in++;
        w->ops->on_message(c, c->rx.p, c->rx.len);
        c->rx.len = 0;
    }
    return 0;
}

static int wsc_writable(struct wsc_conn *c) {
    struct wsc *w = c->w;
    if (c->state == WSC_CLOSING) {
        /* lws 4.1 sends no close frame when a callback returns -1 here, and
         * the server would take the drop for a lost network (and hold the
         * member for its grace period). So the close frame (1000) is
         * written by hand, and the server, answering it, ends the TCP
         * connection; a timeout bounds the wait for that. */
        unsigned char *p = w->tx + LWS_PRE;
        p[0] = (unsigned char)(LWS_CLOSE_STATUS_NORMAL >> 8);
        p[1] = (unsigned char)(LWS_CLOSE_STATUS_NORMAL & 0xff);
        if (lws_write(c->wsi, p, 2, WSC_WRITE_CLOSE) < 2)
            return -1;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, WSC_CLOSE_WAIT_S);
        return 0;
    }
    size_t n = w->ops->on_writable(c, (char *)w->tx + LWS_PRE, WSC_TX_MAX);
    if (n == 0)
        return 0;
    if (lws_write(c->wsi, w->tx + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
        return -1;
    w->frames_out++;
    w->bytes_out += n;
    return 0;
}

static int wsc_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len) {
    struct wsc_conn *c = user;
    if (!c)
        return 0;
    /* The struct may already serve a newer connection (a join slot
     * reconnects at once) while lws still reports on the old one. */
    if (!c->wsi && c->state == WSC_CONNECTING)
        c->wsi = wsi;
    if (c->wsi != wsi)
        return reason == LWS_CALLBACK_CLIENT_RECEIVE || reason == LWS_CALLBACK_CLIENT_WRITEABLE ? -1
                                                                                                : 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->state = WSC_OPEN;
        c->out.wsi = wsi;
        c->w->n_opened++;
        c->w->ops->on_open(c);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return c->state == WSC_IDLE ? -1 : wsc_receive(c, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return c->state == WSC_IDLE ? -1 : wsc_writable(c);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            c->close_code = ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1];
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        /* lws passes a NUL-terminated reason here. */
        snprintf(c->w->last_error, sizeof(c->w->last_error), "%s",
                 in ? (const char *)in : "unknown");
        wsc_finish(c);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        wsc_finish(c);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols wsc_protocols[] = {
    {
        .name = "signald-load",
        .callback = wsc_callback,
        .per_session_data_size = 0, /* the user pointer is our struct wsc_conn */
    },
    {0},
};

int wsc_init(struct wsc *w, uv_loop_t *loop, const struct wsc_ops *ops) {
    struct lws_context_creation_info info;
    void *foreign_loops[1] = {loop};

    w->loop = loop;
    w->ops = ops;
    lws_set_log_level(LLL_ERR, wsc_lws_log);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = wsc_protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    info.foreign_loops = foreign_loops;
    info.pcontext = &w->ctx;
    info.timeout_secs = WSC_CONNECT_TIMEOUT_S;
    w->ctx = lws_create_context(&info);
    if (!w->ctx)
        return -1;
    lwsout_init(&w->out, loop);
    return 0;
}

int wsc_open(struct wsc *w, struct wsc_conn *c, int ep, const char *path) {
    struct lws_client_connect_info ci;
    const struct wsc_endpoint *e = &w->ep[ep];

    c->w = w;
    c->ep = ep;
    c->close_code = 0;
    c->wsi = NULL;
    c->state = WSC_CONNECTING;
    memset(&ci, 0, sizeof(ci));
    ci.context = w->ctx;
    ci.address = e->host;
    ci.port = e->port;
    ci.path = path;
    ci.host = e->host;
    ci.origin = e->host;
    ci.protocol = NULL; /* like a browser: no subprotocol asked for */
    ci.local_protocol_name = wsc_protocols[0].name;
    ci.ietf_version_or_minus_one = -1;
    ci.userdata = c;
    /* No pwsi: lws would clear it when this connection ends, by then
     * possibly under a newer one. */
    struct lws *wsi = lws_client_connect_via_info(&ci);
    if (wsi) {
        if (c->state == WSC_CONNECTING)
            c->wsi = wsi;
        return 0;
    }
    /* A failure reported through the callbacks already ran on_closed. */
    if (c->state == WSC_IDLE)
        return 0;
    c->state = WSC_IDLE;
    c->wsi = NULL;
    w->n_failed++;
    snprintf(w->last_error, sizeof(w->last_error), "connect failed at once");
    return -1;
}

void wsc_want_write(struct wsc_conn *c) {
    if (c->wsi && c->state == WSC_OPEN)
        lwsout_want(&c->w->out, &c->out);
}

void wsc_close(struct wsc_conn *c) {
    if (!c->wsi || c->state != WSC_OPEN)
        return;
    /* The close goes the usual way: lws re-arms its timers (the close
     * wait) only after servicing a socket itself. */
    lwsout_cancel(&c->out);
    c->state = WSC_CLOSING;
    lws_callback_on_writable(c->wsi);
}

void wsc_destroy(struct wsc *w) {
    if (!w->ctx)
        return;
    lwsout_close(&w->out);
    /* Two passes on a foreign loop: the first closes lws' handles, the
     * second frees the context once their close callbacks have run. */
    lws_context_destroy(w->ctx);
    uv_run(w->loop, UV_RUN_DEFAULT);
    lws_context_destroy(w->ctx);
    uv_run(w->loop, UV_RUN_DEFAULT);
    w->ctx = NULL;
}
