/*
 * http: the plain HTTP endpoints on the WebSocket port (PROTOCOL.md section
 * 8): one route table, one response writer.
 */
#ifndef SIGNALD_HTTP_H
#define SIGNALD_HTTP_H

#include <stddef.h>

#include <libwebsockets.h>

struct server;

/* LWS_CALLBACK_HTTP. Returns what the callback should return. */
int http_serve(struct server *srv, struct lws *wsi);

/* Writes a whole "HTTP/1.1 <status> ..." refusal (connection: close) into
 * buf: for refusals made before lws has parsed a request, which lws would
 * answer as HTTP/1.0. Returns its length, or -1 if it does not fit. */
int http_refusal(char *buf, size_t cap, int status);

/* Copies the token of an "Authorization: Bearer ..." header into buf.
 * Returns 0, or -1 when there is none or it does not fit in cap. */
int http_bearer(struct lws *wsi, char *buf, size_t cap);

#endif
