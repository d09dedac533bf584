/*
 * ws: see ws.h.
 */
#include "ws.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http.h"
#include "keys.h"
#include "wspath.h"
#include "log.h"
#include "room.h"
#include "server.h"

#define WS_RX_KEEP 4096 /* reassembly buffers larger than this are freed after use */

/* Per-session data lws allocates with each socket. */
struct ws_session {
    struct conn *conn;
};

static int ws_uri(struct lws *wsi, char *buf, int cap) {
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI);
    if (n <= 0 || n >= cap)
        return -1;
    return lws_hdr_copy(wsi, buf, cap, WSI_TOKEN_GET_URI) < 0 ? -1 : 0;
}

/* Answers an upgrade request with a plain HTTP error. lws_return_http_status
 * would say "HTTP/1.0" here (the request's version is not parsed yet on the
 * upgrade path), which some clients refuse to read. */
static void ws_refuse(struct lws *wsi, int status) {
    unsigned char buf[LWS_PRE + 256];
    int n = http_refusal((char *)buf + LWS_PRE, sizeof(buf) - LWS_PRE, status);
    if (n > 0)
        lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_FINAL);
}

/* The client's address: the first X-Forwarded-For entry behind a trusted
 * balancer, else the socket's peer. */
static void ws_client_addr(struct server *srv, struct lws *wsi, char *buf, size_t cap) {
    char xff[256];
    buf[0] = '\0';
    if (srv->cfg->trust_forwarded_for &&
        lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR) > 0) {
        size_t n = strcspn(xff, ", ");
        if (n > 0 && n < cap) {
            memcpy(buf, xff, n);
            buf[n] = '\0';
            return;
        }
    }
    lws_get_peer_simple(wsi, buf, cap);
}

static int ws_filter(struct server *srv, struct lws *wsi) {
    char uri[AUTH_MAX_TOKEN + 256];
    struct wspath path;
    int status = ws_uri(wsi, uri, sizeof(uri)) < 0 ? WSPATH_NOT_FOUND
                                                   : wspath_parse(uri, strlen(uri), &path);
    if (status == WSPATH_OK && srv->reg.n_conns >= (size_t)srv->cfg->max_connections)
        status = HTTP_STATUS_SERVICE_UNAVAILABLE;
    if (status == WSPATH_OK) {
        char addr[THROTTLE_ADDR_MAX];
        ws_client_addr(srv, wsi, addr, sizeof(addr));
        if (!throttle_allowed(&srv->bad_tokens, addr, clock_mono_ms())) {
            srv->metrics.joins[METRICS_JOIN_THROTTLED]++;
            log_warn("event=throttled addr=%s", addr);
            status = 429;
        }
    }
    if (status == WSPATH_OK)
        return 0;
    ws_refuse(wsi, status);
    return -1;
}

/* Finds the token: the path form wins, then the Authorization header, then
 * the token query parameter. Copies it into buf; returns -1 when absent or
 * too long. */
static int ws_token(struct lws *wsi, const struct wspath *path, char *buf, size_t cap) {
    if (path->token) {
        if (path->token_len >= cap)
            return -1;
        memcpy(buf, path->token, path->token_len);
        buf[path->token_len] = '\0';
        return 0;
    }
    if (http_bearer(wsi, buf, cap) == 0)
        return 0;
    char arg[AUTH_MAX_TOKEN + 16];
    const char *v = lws_get_urlarg_by_name(wsi, "token=", arg, sizeof(arg));
    if (v && *v && strlen(v) < cap) {
        strcpy(buf, v);
        return 0;
    }
    return -1;
}

static int ws_established(struct server *srv, struct lws *wsi, struct ws_session *pss) {
    char uri[AUTH_MAX_TOKEN + 256], token[AUTH_MAX_TOKEN + 1];
    const char *why = "missing token";
    struct wspath path;
    struct conn *c = conn_new(srv, wsi);
    if (!c || registry_add(&srv->reg, c) < 0) {
        conn_free(c);
        return -1;
    }
    pss->conn = c;
    srv->metrics.connections_total++;
    ratelimit_init(&c->rl, (uint32_t)srv->cfg->rate_burst, (uint32_t)srv->cfg->rate_per_sec,
                   clock_mono_ms());
    if (ws_uri(wsi, uri, sizeof(uri)) < 0 || wspath_parse(uri, strlen(uri), &path) != WSPATH_OK) {
        conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "bad_request", "bad path");
        return 0;
    }
    memcpy(c->room, path.room, sizeof(c->room));
    int rc = AUTH_ERR_UNAUTHORIZED;
    if (ws_token(wsi, &path, token, sizeof(token)) == 0)
        rc = auth_verify(&srv->auth, token, c->room, clock_real_ms() / 1000, &c->ident, &why);
    if (rc == AUTH_ERR_FORBIDDEN) {
        srv->metrics.joins[METRICS_JOIN_FORBIDDEN]++;
        log_info("event=refused reason=forbidden room=%s conn=%s", c->room, c->tag);
        conn_close(c, 4003, "forbidden", "the token is not valid for this room");
        return 0;
    }
    if (rc != AUTH_OK) {
        char addr[THROTTLE_ADDR_MAX];
        ws_client_addr(srv, wsi, addr, sizeof(addr));
        throttle_failed(&srv->bad_tokens, addr, clock_mono_ms());
        srv->metrics.joins[METRICS_JOIN_UNAUTHORIZED]++;
        log_info("event=refused reason=unauthorized why=\"%s\" room=%s conn=%s", why, c->room,
                 c->tag);
        conn_close(c, 4001, "unauthorized", why);
        return 0;
    }
    if (srv->draining) {
        conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, NULL, NULL);
        return 0;
    }
    room_open(srv, c);
    return 0;
}

/* Closes at once with code: the frame that caused it is not processed. */
static int ws_reject(struct conn *c, struct lws *wsi, enum lws_close_status code, const char *why) {
    c->end = CONN_END_LEAVE;
    c->close_code = code;
    c->close_sent = true; /* lws writes this close frame and waits for the answer */
    lws_close_reason(wsi, code, (unsigned char *)why, strlen(why));
    return -1;
}

static int ws_receive(struct server *srv, struct lws *wsi, struct conn *c, const char *in,
                      size_t len) {
    if (c->close_code)
        return 0;
    if (lws_frame_is_binary(wsi))
        return ws_reject(c, wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary frames refused");
    size_t max = srv->cfg->max_message_bytes;
    size_t remaining = lws_remaining_packet_payload(wsi);
    bool done = lws_is_final_fragment(wsi) && remaining == 0;
    if (lws_is_first_fragment(wsi))
        c->rx.len = 0;
    if (c->rx.len + len + remaining > max)
        return ws_reject(c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
    if (done && c->rx.len == 0) {
        room_on_message(srv, c, in, len);
        return 0;
    }
    if (dynbuf_append(&c->rx, in, len, max) < 0)
        return ws_reject(c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
    if (done) {
        room_on_message(srv, c, c->rx.p, c->rx.len);
        /* Large messages are rare: do not keep their buffer per socket. */
        dynbuf_reset(&c->rx, WS_RX_KEEP);
    }
    return 0;
}

static void ws_closed(struct server *srv, struct ws_session *pss) {
    struct conn *c = pss->conn;
    if (!c)
        return;
    pss->conn = NULL;
    if (c->end == CONN_END_NONE) {
        /* Closed by us: kicked members leave, shutdown holds them. Closed by
         * the client: any close frame is a leave. No close frame: hold. */
        if (c->close_code)
            c->end = c->close_code == LWS_CLOSE_STATUS_GOINGAWAY ? CONN_END_HOLD : CONN_END_LEAVE;
        else
            c->end = c->peer_closed ? CONN_END_LEAVE : CONN_END_HOLD;
    }
    room_on_closed(srv, c);
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len) {
    struct server *srv = server_get();
    struct ws_session *pss = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(srv, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return ws_established(srv, wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        return pss->conn ? ws_receive(srv, wsi, pss->conn, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pss->conn ? conn_writable(pss->conn) : -1;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (!pss->conn)
            return 0;
        pss->conn->peer_closed = true;
        /* An answer to our close frame: end without echoing another. */
        return pss->conn->close_sent ? -1 : 0;
    case LWS_CALLBACK_CLOSED:
        ws_closed(srv, pss);
        return 0;
    case LWS_CALLBACK_HTTP:
        return http_serve(srv, wsi);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

const struct lws_protocols ws_protocols[] = {
    {
        .name = "signald",
        .callback = ws_callback,
        .per_session_data_size = sizeof(struct ws_session),
        /* lws allocates this per socket (4 KB by default): most messages
         * are small, and larger ones arrive in pieces ws_receive joins. */
        .rx_buffer_size = 512,
    },
    {0},
};
