/*
 * node: this node's life in the cluster. It renews a lease in Redis and
 * records the members it holds; it sweeps for nodes whose lease expired
 * and removes their members (one claimer per dead node); after a Redis
 * outage it writes its members back (the node holding a socket is the
 * source of truth) and replays the leaves it could not record. A node
 * found declared dead on its return drops its sockets instead, so that it
 * never resurrects members the others removed.
 */
#ifndef SIGNALD_NODE_H
#define SIGNALD_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;

/* A leave that could not be recorded while Redis was unreachable. */
struct node_pending {
    char *room;
    char *peer;
    char *conn;
};

struct node {
    uint64_t beat_at_ms;
    uint64_t sweep_at_ms;
    bool beat_inflight;
    bool sweep_inflight;
    bool resync; /* the link came back: write members back after the next beat */
    bool retired;
    uint64_t
        self_sweep_at_ms; /* when to clear what an earlier process of this id left; 0 once done */
    char lease_value[32];
    struct node_pending *pending;
    size_t n_pending, cap_pending;
};

void node_init(struct server *srv);
void node_tick(struct server *srv, uint64_t now_ms);

/* store link state changes (data is the server). */
void node_on_store_link(bool up, void *data);

/* Remembers a leave to replay when Redis is back. Copies the strings. */
void node_defer_leave(struct server *srv, const char *room, const char *peer, const char *conn);

/* At exit: let the lease run out after the reconnect grace period, so the
 * others remove the members still held here only if they do not return. */
void node_retire(struct server *srv);

void node_free(struct server *srv);

#endif
