/*
 * store: room membership in Redis, through three Lua scripts (join, leave,
 * media) run with EVALSHA on the command link and reloaded with EVAL when
 * Redis answers NOSCRIPT. Each script changes a room atomically and, for
 * join and leave, publishes the membership event in the same step, so every
 * node sees membership changes in the order Redis applied them.
 */
#ifndef SIGNALD_STORE_H
#define SIGNALD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "member.h"
#include "rconn.h"

enum store_status {
    STORE_OK = 0,   /* done */
    STORE_FULL = 1, /* join: the room is at capacity */
    STORE_NOOP = 2, /* leave/media: the connection is no longer on record */
    STORE_ERR = -1, /* Redis unreachable, timed out or answered an error */
};

/* What a script answered. Borrowed: valid only during the callback. */
struct store_result {
    enum store_status status;
    int64_t ver;                /* room version after the change; 0 when the room is gone */
    bool reconnected;           /* join: the peer was already on record */
    const char *old_conn;       /* join: the connection it replaced ("" if none) */
    struct member_list members; /* the room after the change, oldest first */
};

/* Called exactly once per accepted request. The callback may take
 * res->members (moving them out and leaving the list empty). */
typedef void (*store_cb)(struct store_result *res, void *data);

struct store {
    struct rconn link; /* the command link, owned; connection fields set by the owner */
    const char *node_id;
    uint64_t n_calls;
    uint32_t n_inflight; /* requests awaiting their reply */
    uint64_t n_errors;
};

int store_start(struct store *st);
void store_stop(struct store *st);

/* Adds peer to room with record (member_record_json without seq/joined_at),
 * unless the room holds max members and peer is not one of them.
 * Returns 0, or -1 when the link is down (cb is then never called). */
int store_join(struct store *st, const char *room, const char *peer, const char *record, int max,
               store_cb cb, void *data);

/* Removes peer if conn is still its connection on record. cb may be NULL. */
int store_leave(struct store *st, const char *room, const char *peer, const char *conn, store_cb cb,
                void *data);

/* Stores peer's media state (a JSON object) if conn is still on record. */
int store_media(struct store *st, const char *room, const char *peer, const char *conn,
                const char *media_json);

#endif
