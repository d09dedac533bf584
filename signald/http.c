/*
 * http: see http.h.
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ice.h"
#include "keys.h"
#include "livekit.h"
#include "log.h"
#include "server.h"

int http_refusal(char *buf, size_t cap, int status) {
    static const struct {
        int code;
        const char *text;
    } reasons[] = {{400, "Bad Request"},
                   {404, "Not Found"},
                   {429, "Too Many Requests"},
                   {503, "Service Unavailable"}};
    const char *text = "Error";
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].code == status)
            text = reasons[i].text;
    int n = snprintf(buf, cap,
                     "HTTP/1.1 %d %s\r\ncontent-type: text/plain\r\ncontent-length: %zu\r\n"
                     "connection: close\r\n\r\n%s\n",
                     status, text, strlen(text) + 1, text);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Writes a whole response. Returns the value the lws callback returns. */
static int http_respond(struct lws *wsi, unsigned status, const char *type, const char *body,
                        size_t len) {
    unsigned char head[LWS_PRE + 512];
    unsigned char *start = head + LWS_PRE, *p = start, *end = head + sizeof(head) - 1;
    if (lws_add_http_common_headers(wsi, status, type, (lws_filepos_t)len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-origin:",
                                    (const unsigned char *)"*", 1, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    unsigned char *buf = malloc(LWS_PRE + len + 1);
    if (!buf)
        return -1;
    memcpy(buf + LWS_PRE, body, len);
    int n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
    free(buf);
    if (n < 0)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_text(struct lws *wsi, unsigned status, const char *text) {
    return http_respond(wsi, status, "text/plain; charset=utf-8", text, strlen(text));
}

static int http_healthz(struct server *srv, struct lws *wsi) {
    (void)srv;
    return http_text(wsi, HTTP_STATUS_OK, "ok\n");
}

static int http_readyz(struct server *srv, struct lws *wsi) {
    if (server_ready(srv))
        return http_text(wsi, HTTP_STATUS_OK, "ready\n");
    return http_text(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
                     srv->draining ? "draining\n" : "cluster store unreachable\n");
}

/* Sends a JSON object (stolen) with status. */
static int http_json(struct lws *wsi, unsigned status, json_t *obj) {
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text)
        return http_text(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
    int rc = http_respond(wsi, status, "application/json", text, strlen(text));
    free(text);
    return rc;
}

static int http_error(struct lws *wsi, unsigned status, const char *code, const char *message) {
    return http_json(wsi, status, json_pack("{s:s, s:s}", "code", code, "message", message));
}

int http_bearer(struct lws *wsi, char *buf, size_t cap) {
    char hdr[AUTH_MAX_TOKEN + 32];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n <= 0 || n >= (int)sizeof(hdr) ||
        lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION) <= 0 ||
        strncasecmp(hdr, "Bearer ", 7) != 0)
        return -1;
    const char *t = hdr + 7;
    while (*t == ' ')
        t++;
    size_t len = strlen(t);
    if (len == 0 || len >= cap)
        return -1;
    memcpy(buf, t, len + 1);
    return 0;
}

/* Verifies the bearer token for room (NULL: any room). Returns 0 with *id
 * filled, or the HTTP status of the refusal after having sent it. */
static int http_identify(struct server *srv, struct lws *wsi, const char *room,
                         struct auth_identity *id, int *rc) {
    char token[AUTH_MAX_TOKEN + 1];
    const char *why = "missing bearer token";
    int st = AUTH_ERR_UNAUTHORIZED;
    if (http_bearer(wsi, token, sizeof(token)) == 0)
        st = auth_verify(&srv->auth, token, room, clock_real_ms() / 1000, id, &why);
    if (st == AUTH_OK)
        return 0;
    if (st == AUTH_ERR_FORBIDDEN)
        *rc = http_error(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
                         "the token is not valid for this room");
    else
        *rc = http_error(wsi, HTTP_STATUS_UNAUTHORIZED, "unauthorized", why);
    return -1;
}

static int http_ice_config(struct server *srv, struct lws *wsi) {
    struct auth_identity id = {0};
    int rc;
    if (http_identify(srv, wsi, NULL, &id, &rc) < 0)
        return rc;
    json_t *ice = ice_servers(srv->cfg, id.peer_id, clock_real_ms() / 1000);
    auth_identity_clear(&id);
    return http_json(wsi, HTTP_STATUS_OK,
                     json_pack("{s:o?, s:i}", "ice_servers", ice, "max_participants",
                               srv->cfg->max_participants));
}

static int http_livekit_token(struct server *srv, struct lws *wsi) {
    char arg[256];
    const char *room = lws_get_urlarg_by_name(wsi, "room=", arg, sizeof(arg));
    if (!room || !keys_room_valid(room, strlen(room)))
        return http_error(wsi, HTTP_STATUS_BAD_REQUEST, "bad_request",
                          "query parameter 'room' must be 1 to 128 of A-Z a-z 0-9 _ - .");
    struct auth_identity id = {0};
    int rc;
    if (http_identify(srv, wsi, room, &id, &rc) < 0)
        return rc;
    char *token = livekit_token(srv->cfg, id.peer_id, id.name, room, clock_real_ms() / 1000);
    json_t *body = token ? json_pack("{s:s, s:s, s:s, s:s}", "url", srv->cfg->livekit_url, "token",
                                     token, "room", room, "identity", id.peer_id)
                         : NULL;
    free(token);
    auth_identity_clear(&id);
    if (!body)
        return http_error(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal", "could not sign");
    return http_json(wsi, HTTP_STATUS_OK, body);
}

static void http_count_members(struct conn *c, void *data) {
    size_t *n = data;
    *n += c->state == CONN_JOINED;
}

static uint64_t http_reconnects(const struct rconn *rc) {
    return rc->n_connects > 1 ? rc->n_connects - 1 : 0;
}

static int http_metrics(struct server *srv, struct lws *wsi) {
    struct metrics_gauges g = {
        .connections = srv->reg.n_conns,
        .rooms = srv->reg.n_rooms,
        .held = srv->reg.held.count,
        .redis_up = rconn_is_up(&srv->store.link) && rconn_is_up(&srv->bus.sub),
        .ready = server_ready(srv),
        .redis_calls = srv->store.n_calls,
        .redis_errors = srv->store.n_errors,
        .redis_reconnects = http_reconnects(&srv->store.link) + http_reconnects(&srv->bus.sub),
        .refused_paths = srv->listener.n_refused,
        .published = srv->bus.n_published,
        .publish_failures = srv->bus.n_publish_failed,
    };
    registry_each(&srv->reg, http_count_members, &g.members);
    size_t len;
    char *text = metrics_render(&srv->metrics, &g, &len);
    if (!text)
        return http_text(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
    int rc =
        http_respond(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
    return rc;
}

struct http_route {
    const char *path;
    int (*handler)(struct server *srv, struct lws *wsi);
};

static const struct http_route http_routes[] = {
    {"/healthz", http_healthz},
    {"/readyz", http_readyz},
    {"/metrics", http_metrics},
    {"/api/webrtc/ice-config", http_ice_config},
    {"/api/livekit/token", http_livekit_token},
};

int http_serve(struct server *srv, struct lws *wsi) {
    /* The whole path from the request line: with mounts, lws passes the
     * callback only what follows the mountpoint. */
    char uri[256];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) >= (int)sizeof(uri) ||
        lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
        return http_text(wsi, HTTP_STATUS_NOT_FOUND, "not found\n");
    for (size_t i = 0; i < sizeof(http_routes) / sizeof(http_routes[0]); i++)
        if (strcmp(uri, http_routes[i].path) == 0)
            return http_routes[i].handler(srv, wsi);
    if (strncmp(uri, "/ws/", 4) == 0)
        return http_text(wsi, HTTP_STATUS_BAD_REQUEST, "websocket upgrade required\n");
    return http_text(wsi, HTTP_STATUS_NOT_FOUND, "not found\n");
}
