/*
 * conn: one client WebSocket and everything the node keeps for it: its
 * identity and room, its state, a bounded queue of outgoing frames
 * (written from the WRITEABLE callback), its rate bucket and its reassembly
 * buffer. A client that stops reading fills its queue and is cut off with
 * 1008, so no slow phone can grow the node's memory.
 *
 * Frames are written from the WRITEABLE callback, asked for through
 * lwsout (no POLLOUT arming for a socket that can take them; see lwsout.h).
 */
#ifndef SIGNALD_CONN_H
#define SIGNALD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "auth.h"
#include "dynbuf.h"
#include "frame.h"
#include "lwsout.h"
#include "member.h"
#include "ratelimit.h"

struct server;
struct lroom;

enum conn_state {
    CONN_OPEN = 0, /* upgraded, not yet joining (or refused) */
    CONN_JOINING,  /* waiting for subscriptions, then the join script */
    CONN_JOINED,   /* a member of its room */
    CONN_HELD,     /* socket gone, membership held for the grace period */
    CONN_CLOSED,   /* socket gone or going; nothing more is sent */
};

/* Why a joined socket went away, which decides what happens to its membership. */
enum conn_end {
    CONN_END_NONE = 0,
    CONN_END_LEAVE,    /* clean close or kicked: leave at once */
    CONN_END_HOLD,     /* dropped without a close frame, or node shutdown: hold */
    CONN_END_REPLACED, /* a newer connection took over: no leave */
};

struct conn {
    uint64_t id;
    char tag[96]; /* "<node>:<id>": the connection id on record in Redis */
    struct server *srv;
    struct lws *wsi; /* NULL once the socket is gone */
    enum conn_state state;
    enum conn_end end;

    char room[129];
    struct auth_identity ident;
    char *peer_json; /* ident.peer_id as a JSON string (quoted), made on first use */
    size_t peer_json_len;
    struct lroom *lroom;    /* set while in a room's list */
    lws_dll2_t room_link;   /* in lroom->conns */
    lws_dll2_t held_link;   /* in registry.held while CONN_HELD */
    struct lwsout_item out; /* asks for WRITEABLE callbacks */
    uint64_t held_until_ms;
    int waits; /* channel confirmations still awaited while joining */
    bool join_sent;
    bool channels_held; /* holds references on its room and peer channels */

    struct member_media media;
    int64_t join_ver; /* room version its room_state reflected */
    int64_t seen_ver; /* newest membership event delivered to it */

    /* Outgoing queue: a ring of shared frames. */
    struct frame **q;
    uint32_t q_head, q_len, q_cap;
    size_t q_bytes;

    /* Incoming message being reassembled from fragments. */
    struct dynbuf rx;

    struct ratelimit rl;
    uint64_t limited_since_ms; /* start of the current run of refusals, 0 if none */
    uint64_t limit_last_ms;    /* last refusal */
    uint64_t limit_error_ms;   /* last rate_limited error sent */
    bool peer_closed;          /* the client sent a close frame */

    int close_code;  /* sent once the queue has drained, 0 while open */
    bool close_sent; /* the close frame is out (by us or by lws): write nothing more */
    char close_reason[32];
};

/* A new connection for wsi with the next id; NULL on OOM. */
struct conn *conn_new(struct server *srv, struct lws *wsi);

/* Frees the queue, buffers and identity. The caller has already taken it
 * out of every list. NULL is allowed. */
void conn_free(struct conn *c);

/* Queues f (adds a reference). A full queue cuts the client off with 1008.
 * Frames to a closed or closing connection are dropped. */
void conn_send(struct conn *c, struct frame *f);

/* ident.peer_id as a JSON string, quotes included (kept for the
 * connection's life); NULL on OOM. */
const char *conn_peer_json(struct conn *c, size_t *len);

/* Builds and queues an error frame. target may be NULL. */
void conn_send_error(struct conn *c, const char *code, const char *message, const char *target);

/* Sends (code, message) as an error frame, then closes with close_code
 * once the queue has drained. code NULL: no error frame. */
void conn_close(struct conn *c, int close_code, const char *code, const char *message);

/* SERVER_WRITEABLE: writes the queued frames (up to a fair share), then
 * the close frame once they are out. Returns -1 when lws must close. */
int conn_writable(struct conn *c);

#endif
