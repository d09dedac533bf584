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

#include <hiredis/hiredis.h>

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

/* The raw reply of a script (NULL when it failed); borrowed. */
typedef void (*store_raw_cb)(const struct redisReply *reply, void *data);

struct store {
    struct rconn link; /* the command link, owned; connection fields set by the owner */
    const char *node_id;
    void (*on_link)(bool up, void *data); /* the link came up or went down */
    void *data;
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

/* Removes peer from room if its record says it is on node (a dead node). */
int store_reap_member(struct store *st, const char *room, const char *peer, const char *node);

/* Writes peer's record back unless another connection holds it; cb gets
 * the integer reply (1: the record is conn's, 0: another's). */
int store_assert(struct store *st, const char *room, const char *peer, const char *record,
                 const char *conn, store_raw_cb cb, void *data);

/* Adds (or removes) "ROOM PEER" to this node's member set. */
int store_node_member(struct store *st, bool add, const char *room, const char *peer);

/* This node's member set; cb gets the SMEMBERS reply. */
int store_node_members(struct store *st, store_raw_cb cb, void *data);

/* Renews this node's lease; cb gets 1, or 0 if the node had been declared dead. */
int store_beat(struct store *st, uint32_t lease_ms, const char *value, store_raw_cb cb, void *data);

/* Sets this node's lease to expire in lease_ms (used at exit). */
int store_set_lease(struct store *st, uint32_t lease_ms, const char *value);

/* Claims the clean-up of dead nodes; cb gets {{node, {"ROOM PEER", ...}}, ...}. */
int store_reap_claim(struct store *st, uint32_t claim_ms, uint32_t tombstone_s, store_raw_cb cb,
                     void *data);

/* Forgets a reaped node (unless it came back). */
int store_reap_done(struct store *st, const char *node);

#endif
