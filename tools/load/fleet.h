/*
 * fleet: a population of clients laid out as rooms x peers, spread
 * round-robin over the node endpoints (member i goes to node i mod N, so a
 * room of 4 over 2 nodes has two members on each). It mints their tokens,
 * connects them with a bounded number in flight, follows the member lists
 * they are sent, and calls on_ready once every member has joined and has
 * seen its whole room, so that traffic never targets a peer not yet known.
 * Frames other than membership go to the scenario's hooks.
 */
#ifndef LOAD_FLEET_H
#define LOAD_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "load.h"
#include "msg.h"
#include "wsc.h"

struct fleet;

struct fleet_member {
    struct wsc_conn conn; /* first: a struct wsc_conn * is a member */
    struct fleet *fl;
    uint32_t index; /* room * peers + slot */
    uint32_t room;
    uint32_t slot;
    uint32_t seen; /* size of the latest member list it was sent */
    uint64_t open_ns;
    bool joined;
    bool done; /* joined, failed or gone */
};

struct fleet_hooks {
    /* Every member is in and has seen its room (or the wait timed out;
     * fl->n_joined says how many made it). */
    void (*on_ready)(struct fleet *fl);
    /* A frame that is not room_state, peer_joined or peer_left. */
    void (*on_message)(struct fleet *fl, struct fleet_member *m, enum msg_type type,
                       const char *buf, size_t len);
    /* See wsc_ops.on_writable. */
    size_t (*on_writable)(struct fleet *fl, struct fleet_member *m, char *buf, size_t cap);
    /* A member's connection ended after fleet_close_all. */
    void (*on_all_closed)(struct fleet *fl);
};

struct fleet {
    struct load *ld;
    const struct fleet_hooks *hooks;
    void *data; /* the scenario's */
    struct fleet_member *m;
    char **tokens;
    uint32_t n, rooms, peers;
    uint32_t next;     /* next member to connect */
    uint32_t inflight; /* connecting, not yet joined */
    uint32_t max_inflight;
    uint32_t n_joined, n_failed, n_open;
    uint32_t n_dropped;   /* closed by the server while the run went on */
    uint64_t n_errors;    /* error frames */
    uint32_t n_unsettled; /* members never told of every room-mate that joined */
    int last_close_code;
    bool ready, closing;
    uint64_t started_ns, all_in_ns, ready_ns;
    struct hist join_lat; /* connect to room_state */
    uv_timer_t timer;
};

/* Mints tokens and prepares n = rooms * peers members. Returns 0 or -1. */
int fleet_init(struct fleet *fl, struct load *ld, uint32_t rooms, uint32_t peers,
               const struct fleet_hooks *hooks);

/* The wsc callbacks to give wsc_init. */
extern const struct wsc_ops fleet_wsc_ops;

/* Starts connecting everyone; on_ready follows. */
void fleet_connect(struct fleet *fl);

/* Closes every open connection (1000); on_all_closed follows. */
void fleet_close_all(struct fleet *fl);

/* Frees what fleet_init allocated; the loop must be done with it. */
void fleet_free(struct fleet *fl);

/* Connections per endpoint among the members that joined. */
void fleet_per_node(const struct fleet *fl, uint32_t *per_node);

#endif
