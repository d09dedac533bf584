/*
 * registry: see registry.h. Rooms and connections are kept in glibc's
 * tsearch trees: O(log n) lookups with no code of our own to get wrong.
 */
#include "registry.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

static int registry_room_cmp(const void *a, const void *b) {
    return strcmp(((const struct lroom *)a)->id, ((const struct lroom *)b)->id);
}

static int registry_conn_cmp(const void *a, const void *b) {
    uint64_t x = ((const struct conn *)a)->id, y = ((const struct conn *)b)->id;
    return x < y ? -1 : x > y;
}

struct lroom *registry_room(struct registry *reg, const char *id, bool create) {
    struct lroom key;
    snprintf(key.id, sizeof(key.id), "%s", id);
    void *found = tfind(&key, &reg->rooms, registry_room_cmp);
    if (found)
        return *(struct lroom **)found;
    if (!create)
        return NULL;
    struct lroom *room = calloc(1, sizeof(*room));
    if (!room)
        return NULL;
    snprintf(room->id, sizeof(room->id), "%s", id);
    keys_room_channel(room->channel, sizeof(room->channel), id);
    if (!tsearch(room, &reg->rooms, registry_room_cmp)) {
        free(room);
        return NULL;
    }
    reg->n_rooms++;
    return room;
}

void registry_room_add(struct registry *reg, struct lroom *room, struct conn *c) {
    (void)reg;
    lws_dll2_add_tail(&c->room_link, &room->conns);
    c->lroom = room;
}

#define REGISTRY_LOG_MAX 64 /* events kept while someone joins; older ones are dropped */

int registry_room_log(struct lroom *room, int64_t ver, const char *peer, const char *conn,
                      struct frame *frame) {
    if (room->n_log == REGISTRY_LOG_MAX)
        return -1;
    if (!room->log && !(room->log = calloc(REGISTRY_LOG_MAX, sizeof(*room->log))))
        return -1;
    struct lroom_event *e = &room->log[room->n_log];
    e->peer = strdup(peer);
    e->conn = conn ? strdup(conn) : NULL;
    if (!e->peer || (conn && !e->conn)) {
        free(e->peer);
        free(e->conn);
        return -1;
    }
    e->ver = ver;
    e->frame = frame;
    frame_ref(frame);
    room->n_log++;
    return 0;
}

void registry_room_log_clear(struct lroom *room) {
    for (size_t i = 0; i < room->n_log; i++) {
        free(room->log[i].peer);
        free(room->log[i].conn);
        frame_unref(room->log[i].frame);
    }
    free(room->log);
    room->log = NULL;
    room->n_log = 0;
}

void registry_room_remove(struct registry *reg, struct conn *c) {
    struct lroom *room = c->lroom;
    if (!room)
        return;
    lws_dll2_remove(&c->room_link);
    c->lroom = NULL;
    if (room->conns.count == 0) {
        tdelete(room, &reg->rooms, registry_room_cmp);
        registry_room_log_clear(room);
        member_list_clear(&room->members);
        free(room);
        reg->n_rooms--;
    }
}

bool registry_room_update(struct lroom *room, int64_t ver, struct member_list *list) {
    if (ver <= room->ver) {
        member_list_clear(list);
        return false;
    }
    member_list_clear(&room->members);
    room->members = *list;
    list->v = NULL;
    list->n = 0;
    room->ver = ver;
    return true;
}

struct conn *registry_room_peer(struct lroom *room, const char *peer, unsigned states) {
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&room->conns)) {
        struct conn *c = lws_container_of(d, struct conn, room_link);
        if ((CONN_IN(c->state) & states) && c->ident.peer_id && strcmp(c->ident.peer_id, peer) == 0)
            return c;
    }
    lws_end_foreach_dll(d);
    return NULL;
}

int registry_add(struct registry *reg, struct conn *c) {
    if (!tsearch(c, &reg->conns, registry_conn_cmp))
        return -1;
    reg->n_conns++;
    return 0;
}

void registry_remove(struct registry *reg, struct conn *c) {
    if (tdelete(c, &reg->conns, registry_conn_cmp))
        reg->n_conns--;
}

struct conn *registry_conn(struct registry *reg, uint64_t id) {
    struct conn key = {.id = id};
    void *found = tfind(&key, &reg->conns, registry_conn_cmp);
    return found ? *(struct conn **)found : NULL;
}

struct registry_walk {
    struct conn **list;
    size_t n;
};

static void registry_collect(const void *node, VISIT which, void *closure) {
    struct registry_walk *w = closure;
    if (which == postorder || which == leaf)
        w->list[w->n++] = *(struct conn *const *)node;
}

void registry_each(struct registry *reg, void (*fn)(struct conn *c, void *data), void *data) {
    struct registry_walk w = {.list = calloc(reg->n_conns + 1, sizeof(struct conn *))};
    if (!w.list)
        return;
    twalk_r(reg->conns, registry_collect, &w);
    for (size_t i = 0; i < w.n; i++)
        fn(w.list[i], data);
    free(w.list);
}

static void registry_noop(void *p) {
    (void)p;
}

static void registry_free_room(void *p) {
    struct lroom *room = p;
    registry_room_log_clear(room);
    member_list_clear(&room->members);
    free(room);
}

void registry_clear(struct registry *reg) {
    tdestroy(reg->conns, registry_noop);
    tdestroy(reg->rooms, registry_free_room);
    reg->conns = reg->rooms = NULL;
    reg->n_conns = reg->n_rooms = 0;
}
