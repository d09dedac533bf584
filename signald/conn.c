/*
 * conn: see conn.h.
 */
#include "conn.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto.h"
#include "server.h"

/* Seconds a client that cannot take its close frame is given before the
 * socket is cut. */
#define CONN_CLOSE_GRACE_S 5

/* Frames written in one WRITEABLE callback at most, for fairness. */
#define CONN_WRITES_PER_CALLBACK 16

/* lws_write's close opcode: part of lws' write protocol enum internally,
 * left out of the public header of 4.1 in favour of lws_close_reason. */
#define CONN_WRITE_CLOSE ((enum lws_write_protocol)4)

struct conn *conn_new(struct server *srv, struct lws *wsi) {
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->id = ++srv->next_conn_id;
    snprintf(c->tag, sizeof(c->tag), "%s:%llu", srv->cfg->node_id, (unsigned long long)c->id);
    c->srv = srv;
    c->wsi = wsi;
    c->out.wsi = wsi;
    return c;
}

static void conn_queue_clear(struct conn *c) {
    while (c->q_len) {
        frame_unref(c->q[c->q_head]);
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
    }
    c->q_bytes = 0;
}

void conn_free(struct conn *c) {
    if (!c)
        return;
    lwsout_cancel(&c->out);
    conn_queue_clear(c);
    free(c->q);
    dynbuf_free(&c->rx);
    auth_identity_clear(&c->ident);
    free(c->peer_json);
    free(c);
}

static int conn_queue_grow(struct conn *c, uint32_t max) {
    uint32_t cap = c->q_cap ? c->q_cap * 2 : 8;
    if (cap > max)
        cap = max;
    if (cap <= c->q_cap)
        return -1;
    struct frame **q = malloc(cap * sizeof(*q));
    if (!q)
        return -1;
    for (uint32_t i = 0; i < c->q_len; i++)
        q[i] = c->q[(c->q_head + i) % c->q_cap];
    free(c->q);
    c->q = q;
    c->q_head = 0;
    c->q_cap = cap;
    return 0;
}

static void conn_overflow(struct conn *c) {
    log_warn("event=slow_client conn=%s room=%s peer=%s queued=%u bytes=%zu", c->tag, c->room,
             c->ident.peer_id ? c->ident.peer_id : "-", c->q_len, c->q_bytes);
    c->srv->metrics.queue_drops++;
    conn_queue_clear(c);
    conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, NULL);
}

/* Asks for a WRITEABLE callback. Closing goes the usual way: lws re-arms
 * its timers (the close timeouts) only after servicing a socket itself. */
static void conn_want_write(struct conn *c) {
    if (c->close_code || c->peer_closed)
        lws_callback_on_writable(c->wsi);
    else
        lwsout_want(&c->srv->out, &c->out);
}

void conn_send(struct conn *c, struct frame *f) {
    const struct config *cfg = c->srv->cfg;
    if (!f || !c->wsi || c->close_code)
        return;
    if (c->q_bytes + f->len > cfg->out_queue_bytes ||
        (c->q_len == c->q_cap && conn_queue_grow(c, (uint32_t)cfg->out_queue_messages) < 0)) {
        conn_overflow(c);
        return;
    }
    frame_ref(f);
    c->q[(c->q_head + c->q_len) % c->q_cap] = f;
    c->q_len++;
    c->q_bytes += f->len;
    c->srv->metrics.frames_out++;
    conn_want_write(c);
}

const char *conn_peer_json(struct conn *c, size_t *len) {
    if (!c->peer_json && c->ident.peer_id) {
        json_t *s = json_string(c->ident.peer_id);
        c->peer_json = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
        c->peer_json_len = c->peer_json ? strlen(c->peer_json) : 0;
        json_decref(s);
    }
    *len = c->peer_json_len;
    return c->peer_json;
}

void conn_send_error(struct conn *c, const char *code, const char *message, const char *target) {
    size_t len;
    struct frame *f = frame_take(proto_error(code, message, target, NULL, &len), &len);
    conn_send(c, f);
    frame_unref(f);
}

void conn_close(struct conn *c, int close_code, const char *code, const char *message) {
    if (!c->wsi || c->close_code)
        return;
    if (code)
        conn_send_error(c, code, message, NULL);
    c->close_code = close_code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", code ? code : "");
    conn_want_write(c);
    /* A client that never reads would never see the close: bound the wait. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CONN_CLOSE_GRACE_S);
}

int conn_writable(struct conn *c) {
    if (c->close_sent)
        return 0;
    /* Several frames per callback while the socket takes them whole: a
     * burst then costs one wake-up, not one per frame. (lws_partial_buffered
     * asks lws, lws_send_pipe_choked would ask the kernel with a poll().) */
    for (int i = 0; c->q_len && i < CONN_WRITES_PER_CALLBACK; i++) {
        struct frame *f = c->q[c->q_head];
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
        c->q_bytes -= f->len;
        int n = lws_write(c->wsi, frame_payload(f), f->len, LWS_WRITE_TEXT);
        frame_unref(f);
        if (n < 0)
            return -1;
        if (lws_partial_buffered(c->wsi))
            break; /* the socket took only part: lws finishes it first */
    }
    if (c->q_len) {
        conn_want_write(c);
        return 0;
    }
    if (c->close_code) {
        /* lws 4.1 sends no close frame when WRITEABLE returns -1 (it takes
         * the socket for unusable), nor when a timeout closes it, so the
         * frame is written here with the close opcode. The socket then
         * waits for the client's own close frame (ws.c ends it there) or
         * for the timeout. */
        unsigned char buf[LWS_PRE + 2 + sizeof(c->close_reason)];
        size_t n = strlen(c->close_reason);
        buf[LWS_PRE] = (unsigned char)(c->close_code >> 8);
        buf[LWS_PRE + 1] = (unsigned char)(c->close_code & 0xff);
        memcpy(buf + LWS_PRE + 2, c->close_reason, n);
        c->close_sent = true;
        if (lws_write(c->wsi, buf + LWS_PRE, 2 + n, CONN_WRITE_CLOSE) < 0)
            return -1;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, CONN_CLOSE_GRACE_S);
    }
    return 0;
}
