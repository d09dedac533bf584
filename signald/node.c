/*
 * node: see node.h.
 */
#include "node.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "log.h"
#include "room.h"
#include "server.h"

#define NODE_CLAIM_MS       30000
#define NODE_TOMBSTONE_S    86400
#define NODE_MAX_PENDING    100000
#define NODE_SWEEP_EVERY_MS 1000

static uint32_t node_lease_ms(const struct server *srv) {
    return (uint32_t)srv->cfg->node_ttl_s * 1000u;
}

void node_init(struct server *srv) {
    int64_t now = clock_real_ms();
    snprintf(srv->node.lease_value, sizeof(srv->node.lease_value), "%lld", (long long)now);
    /* Connection ids start from the start time, so that they never repeat
     * those of an earlier process that ran with the same NODE_ID. */
    srv->next_conn_id = (uint64_t)now << 16;
    srv->node.self_sweep_at_ms = clock_mono_ms() + (uint64_t)srv->cfg->grace_s * 1000u + 1000u;
}

/* ---- Writing members back ---- */

static void node_on_asserted(const redisReply *reply, void *data) {
    struct server *srv = server_get();
    struct conn *c = registry_conn(&srv->reg, (uint64_t)(uintptr_t)data);
    if (!c || !reply || reply->type != REDIS_REPLY_INTEGER || reply->integer != 0)
        return;
    /* Someone else holds the record now: this socket was replaced. */
    if (c->state == CONN_JOINED) {
        c->state = CONN_CLOSED;
        c->end = CONN_END_REPLACED;
        conn_close(c, 4000, "replaced", "replaced by a newer connection");
    }
}

static void node_assert_one(struct conn *c, void *data) {
    struct server *srv = data;
    if (c->state != CONN_JOINED && c->state != CONN_HELD)
        return;
    char *record = room_record(srv, c);
    if (!record)
        return;
    store_node_member(&srv->store, true, c->room, c->ident.peer_id);
    store_assert(&srv->store, c->room, c->ident.peer_id, record, c->tag, node_on_asserted,
                 (void *)(uintptr_t)c->id);
    free(record);
}

static void node_flush_pending(struct server *srv) {
    struct node *n = &srv->node;
    size_t done = 0;
    for (; done < n->n_pending; done++) {
        struct node_pending *p = &n->pending[done];
        if (store_leave(&srv->store, p->room, p->peer, p->conn, NULL, NULL) < 0)
            break;
        store_node_member(&srv->store, false, p->room, p->peer);
        free(p->room);
        free(p->peer);
        free(p->conn);
    }
    if (done == 0)
        return;
    memmove(n->pending, n->pending + done, (n->n_pending - done) * sizeof(*n->pending));
    n->n_pending -= done;
    log_info("event=leaves_replayed count=%zu", done);
}

static void node_close_all(struct conn *c, void *data) {
    struct server *srv = data;
    if (c->state == CONN_HELD) {
        room_forget(srv, c);
        return;
    }
    c->end = CONN_END_REPLACED; /* its membership is gone already: no leave */
    conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, NULL, NULL);
}

/* ---- Lease ---- */

static void node_on_beat(const redisReply *reply, void *data) {
    struct server *srv = data;
    struct node *n = &srv->node;
    n->beat_inflight = false;
    if (!reply || reply->type != REDIS_REPLY_INTEGER)
        return;
    if (reply->integer == 0) {
        log_warn("event=declared_dead action=drop_sockets connections=%zu", srv->reg.n_conns);
        n->resync = false;
        registry_each(&srv->reg, node_close_all, srv);
        return;
    }
    if (n->resync) {
        n->resync = false;
        log_info("event=resync members=%zu pending_leaves=%zu", srv->reg.n_conns, n->n_pending);
        registry_each(&srv->reg, node_assert_one, srv);
        node_flush_pending(srv);
    }
}

/* ---- Dead nodes ---- */

static void node_reap(struct server *srv, const char *dead, const redisReply *entries) {
    size_t count = 0;
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_STRING)
            continue;
        const char *space = memchr(e->str, ' ', e->len);
        if (!space || space == e->str)
            continue;
        char room[129];
        size_t rlen = (size_t)(space - e->str);
        if (rlen >= sizeof(room))
            continue;
        memcpy(room, e->str, rlen);
        room[rlen] = '\0';
        if (store_reap_member(&srv->store, room, space + 1, dead) == 0)
            count++;
    }
    store_reap_done(&srv->store, dead);
    srv->metrics.reaped_members += count;
    log_warn("event=reap dead_node=%s members=%zu", dead, count);
}

static void node_on_claim(const redisReply *reply, void *data) {
    struct server *srv = data;
    srv->node.sweep_inflight = false;
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *item = reply->element[i];
        if (item->type == REDIS_REPLY_ARRAY && item->elements == 2 &&
            item->element[0]->type == REDIS_REPLY_STRING &&
            item->element[1]->type == REDIS_REPLY_ARRAY)
            node_reap(srv, item->element[0]->str, item->element[1]);
    }
}

/* True when this node holds a connection of peer in room, in any state. */
static bool node_holds(struct server *srv, const char *room, const char *peer) {
    struct lroom *lr = registry_room(&srv->reg, room, false);
    return lr && registry_room_peer(lr, peer, ~0u);
}

/* An earlier process with this NODE_ID may have left members behind (its
 * lease was taken over, so the sweep of the others never comes): once the
 * grace period of its held members is over, remove every entry no local
 * connection accounts for. */
static void node_on_own_members(const redisReply *reply, void *data) {
    struct server *srv = data;
    size_t count = 0;
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        const char *space = e->type == REDIS_REPLY_STRING ? memchr(e->str, ' ', e->len) : NULL;
        char room[129];
        size_t rlen = space ? (size_t)(space - e->str) : 0;
        if (rlen == 0 || rlen >= sizeof(room))
            continue;
        memcpy(room, e->str, rlen);
        room[rlen] = '\0';
        if (node_holds(srv, room, space + 1))
            continue;
        store_reap_member(&srv->store, room, space + 1, srv->cfg->node_id);
        store_node_member(&srv->store, false, room, space + 1);
        count++;
    }
    if (count)
        log_warn("event=reap_own_leftovers members=%zu", count);
}

void node_tick(struct server *srv, uint64_t now_ms) {
    struct node *n = &srv->node;
    if (!rconn_is_up(&srv->store.link) || n->retired)
        return;
    if (!n->beat_inflight && now_ms >= n->beat_at_ms) {
        uint32_t every = node_lease_ms(srv) / 4;
        n->beat_at_ms = now_ms + (every < 250 ? 250 : every);
        if (store_beat(&srv->store, node_lease_ms(srv), n->lease_value, node_on_beat, srv) == 0)
            n->beat_inflight = true;
    }
    if (n->self_sweep_at_ms && now_ms >= n->self_sweep_at_ms &&
        store_node_members(&srv->store, node_on_own_members, srv) == 0)
        n->self_sweep_at_ms = 0;
    if (!n->sweep_inflight && !n->resync && now_ms >= n->sweep_at_ms) {
        n->sweep_at_ms = now_ms + NODE_SWEEP_EVERY_MS;
        if (store_reap_claim(&srv->store, NODE_CLAIM_MS, NODE_TOMBSTONE_S, node_on_claim, srv) == 0)
            n->sweep_inflight = true;
    }
}

void node_on_store_link(bool up, void *data) {
    struct server *srv = data;
    struct node *n = &srv->node;
    n->beat_inflight = n->sweep_inflight = false;
    if (!up)
        return;
    /* Beat at once; its answer decides between writing members back and
     * dropping them (declared dead meanwhile). */
    n->resync = true;
    n->beat_at_ms = 0;
    node_tick(srv, clock_mono_ms());
}

void node_defer_leave(struct server *srv, const char *room, const char *peer, const char *conn) {
    struct node *n = &srv->node;
    if (n->n_pending == NODE_MAX_PENDING) {
        log_error("event=pending_leaves_full room=%s peer=%s", room, peer);
        return;
    }
    if (n->n_pending == n->cap_pending) {
        size_t cap = n->cap_pending ? n->cap_pending * 2 : 64;
        struct node_pending *p = realloc(n->pending, cap * sizeof(*p));
        if (!p)
            return;
        n->pending = p;
        n->cap_pending = cap;
    }
    struct node_pending *p = &n->pending[n->n_pending];
    p->room = strdup(room);
    p->peer = strdup(peer);
    p->conn = strdup(conn);
    if (!p->room || !p->peer || !p->conn) {
        free(p->room);
        free(p->peer);
        free(p->conn);
        return;
    }
    n->n_pending++;
}

void node_retire(struct server *srv) {
    struct node *n = &srv->node;
    if (n->retired)
        return;
    n->retired = true;
    uint32_t grace = (uint32_t)srv->cfg->grace_s * 1000u;
    store_set_lease(&srv->store, grace ? grace : 1, n->lease_value);
    log_info("event=retire lease_ms=%u held=%u", grace, srv->reg.held.count);
}

void node_free(struct server *srv) {
    struct node *n = &srv->node;
    for (size_t i = 0; i < n->n_pending; i++) {
        free(n->pending[i].room);
        free(n->pending[i].peer);
        free(n->pending[i].conn);
    }
    free(n->pending);
    n->pending = NULL;
    n->n_pending = n->cap_pending = 0;
}
