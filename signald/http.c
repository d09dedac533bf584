/*
 * http: see http.h.
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Writes a whole response. Returns the value the lws callback returns. */
static int http_respond(struct lws *wsi, unsigned status, const char *type, const char *body,
                        size_t len) {
    unsigned char head[LWS_PRE + 512];
    unsigned char *start = head + LWS_PRE, *p = start, *end = head + sizeof(head) - 1;
    if (lws_add_http_common_headers(wsi, status, type, (lws_filepos_t)len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
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

struct http_route {
    const char *path;
    int (*handler)(struct server *srv, struct lws *wsi);
};

static const struct http_route http_routes[] = {
    {"/healthz", http_healthz},
    {"/readyz", http_readyz},
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
