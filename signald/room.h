/*
 * room: the rules of PROTOCOL.md sections 3-7 on top of the store (Redis
 * membership), the bus (pub/sub) and the registry (local sockets): joining
 * with its capacity check and reconnection, relaying signals, broadcasting
 * chat and media state, and leaving now or after a grace period. Peers on
 * this node are served directly; peers elsewhere through Redis. No lws or
 * hiredis calls are made here beyond what conn, store and bus expose.
 */
#ifndef SIGNALD_ROOM_H
#define SIGNALD_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

struct server;

/* A verified connection asks to join c->room as c->ident. */
void room_open(struct server *srv, struct conn *c);

/* One complete text message from a member. */
void room_on_message(struct server *srv, struct conn *c, const char *buf, size_t len);

/* The socket is gone (c->wsi is NULL, c->end says why). The room decides
 * between leaving now, holding for the grace period, or nothing (replaced),
 * and frees c when it no longer needs it. */
void room_on_closed(struct server *srv, struct conn *c);

/* The Redis record for c's membership (member_record_json), with what the
 * node knows of its join order and media. malloc'd; NULL on OOM. */
char *room_record(struct server *srv, struct conn *c);

/* Frees a connection whose membership needs no leave (it is gone already,
 * or the others will remove it). */
void room_forget(struct server *srv, struct conn *c);

/* bus callbacks (data is the server). */
void room_on_bus(const char *channel, const char *buf, size_t len, void *data);
void room_on_confirm(uint64_t id, bool ok, void *data);

/* Expires held memberships. */
void room_tick(struct server *srv, uint64_t now_ms);

#endif
