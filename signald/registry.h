/*
 * registry: what this node holds, indexed for delivery. Rooms with local
 * members (each with its local connections and a cache of the room's
 * membership as of the newest event seen), and every connection by id, so
 * that Redis and bus callbacks, which carry ids rather than pointers, find
 * a connection only while it exists.
 */
#ifndef SIGNALD_REGISTRY_H
#define SIGNALD_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "conn.h"
#include "keys.h"
#include "member.h"

/* A membership event kept for connections still joining: its frame, built
 * once, is replayed to a joiner whose room_state predates it. */
struct lroom_event {
    int64_t ver;
    char *peer;
    char *conn; /* JOINED: the new connection; NULL for LEFT */
    struct frame *frame;
};

/* A room as this node sees it. Exists while it has local connections. */
struct lroom {
    char id[129];
    char channel[KEYS_MAX];     /* signald:{id}:room */
    lws_dll2_owner_t conns;     /* struct conn, by room_link */
    struct member_list members; /* cluster-wide membership, as of ver */
    int64_t ver;
    struct lroom_event *log; /* kept only while a local connection is joining */
    size_t n_log;
};

struct registry {
    void *rooms; /* tsearch tree of struct lroom, by id */
    void *conns; /* tsearch tree of struct conn, by id */
    size_t n_rooms;
    size_t n_conns;
    lws_dll2_owner_t held; /* CONN_HELD connections, oldest first */
};

/* The room with this id; created (empty) when create is set. NULL when
 * absent or on OOM. */
struct lroom *registry_room(struct registry *reg, const char *id, bool create);

/* Links c into room (c->lroom is set). */
void registry_room_add(struct registry *reg, struct lroom *room, struct conn *c);

/* Unlinks c from its room; frees the room when it has no connection left. */
void registry_room_remove(struct registry *reg, struct conn *c);

/* Replaces the room's membership cache if ver is newer; takes list's
 * members either way (list is left empty). Returns true if replaced. */
bool registry_room_update(struct lroom *room, int64_t ver, struct member_list *list);

/* Keeps an event for joiners (takes a reference on frame; copies the
 * strings). Returns 0, or -1 on OOM. */
int registry_room_log(struct lroom *room, int64_t ver, const char *peer, const char *conn,
                      struct frame *frame);
void registry_room_log_clear(struct lroom *room);

/* The local connection of peer in room in one of the given states (a
 * bitmask of 1u << enum conn_state), or NULL. */
struct conn *registry_room_peer(struct lroom *room, const char *peer, unsigned states);

int registry_add(struct registry *reg, struct conn *c); /* 0, or -1 on OOM */
void registry_remove(struct registry *reg, struct conn *c);
struct conn *registry_conn(struct registry *reg, uint64_t id);

/* Calls fn for every connection (safe against fn removing the current one
 * from the room list, not against freeing others). */
void registry_each(struct registry *reg, void (*fn)(struct conn *c, void *data), void *data);

void registry_clear(struct registry *reg);

#define CONN_IN(state) (1u << (state))

#endif
