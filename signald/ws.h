/*
 * ws: the libwebsockets protocol callback. It maps LWS_CALLBACK_* events to
 * conn and room calls: path checks before the upgrade, token checks after
 * it, message reassembly with the size limit, writes in WRITEABLE, and the
 * end of a socket. Plain HTTP requests go to http.c.
 */
#ifndef SIGNALD_WS_H
#define SIGNALD_WS_H

#include <libwebsockets.h>

/* The protocol list for the lws context: signald's protocol (first, so that
 * clients that name no subprotocol and plain HTTP both reach it), then the
 * terminator. */
extern const struct lws_protocols ws_protocols[];

#endif
