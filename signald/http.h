/*
 * http: the plain HTTP endpoints on the WebSocket port (PROTOCOL.md section
 * 8): one route table, one response writer.
 */
#ifndef SIGNALD_HTTP_H
#define SIGNALD_HTTP_H

#include <libwebsockets.h>

struct server;

/* LWS_CALLBACK_HTTP. Returns what the callback should return. */
int http_serve(struct server *srv, struct lws *wsi);

#endif
