/*
 * rconn: one hiredis async link to Redis on the server's libuv loop, kept
 * alive. hiredis 0.14 never reconnects and has no timeouts, so this module
 * adds both: a capped exponential backoff between connection attempts, a
 * connect timeout, and a liveness deadline (the owner proves the link alive
 * with rconn_alive(): a PING reply, or a heartbeat seen on a subscription).
 * A link past its deadline is freed, which fails every pending command with
 * a NULL reply, and a new one is started.
 */
#ifndef SIGNALD_RCONN_H
#define SIGNALD_RCONN_H

#include <stdbool.h>
#include <stdint.h>

#include <hiredis/async.h>
#include <uv.h>

#include "endturn.h"

enum rconn_state { RCONN_DOWN = 0, RCONN_CONNECTING, RCONN_UP };

struct rconn;

/* Called on every change between DOWN and UP (never for CONNECTING). */
typedef void (*rconn_state_cb)(struct rconn *rc, enum rconn_state state, void *data);

struct rconn {
    uv_loop_t *loop;
    const char *name; /* "cmd" or "sub", for logs */
    const char *host;
    int port;
    const char *password; /* NULL: no AUTH */
    int db;               /* SELECT on connect when not 0 */
    uint32_t timeout_ms;  /* connect timeout and liveness deadline */
    bool ping;            /* send PING itself to prove liveness (not on a subscriber) */

    redisAsyncContext *ac;
    enum rconn_state state;
    struct endturn flush;  /* writes queued commands at the end of the loop turn */
    bool flush_pending;    /* commands are waiting for that */
    bool flushing;         /* inside the flush: hiredis' own write wait applies */
    uint64_t since_ms;     /* when the current state began (monotonic) */
    uint64_t alive_ms;     /* last proof of life */
    uint64_t ping_sent_ms; /* outstanding PING, 0 when none */
    uint64_t retry_at_ms;  /* next connection attempt while DOWN */
    uint32_t backoff_ms;
    bool stopped;

    rconn_state_cb on_state;
    void *data;

    /* Counters for /metrics. */
    uint64_t n_connects; /* successful connections, the first included */
};

/* Fills in rc (host, port, ... must stay valid while it lives) and starts
 * the first connection attempt. Returns 0. */
int rconn_start(struct rconn *rc);

/* To be called from the owner's periodic timer (every ~100-250 ms): drives
 * reconnects, connect timeouts, PINGs and the liveness deadline. */
void rconn_tick(struct rconn *rc, uint64_t now_ms);

/* Records a proof of life (any reply or message from Redis). */
void rconn_alive(struct rconn *rc);

/* Sends a command when UP. Returns 0, or -1 when the link is not up or
 * hiredis refused it; on -1 fn is never called. On success fn is called
 * exactly once with the reply, or with NULL if the link is lost first. */
int rconn_command_argv(struct rconn *rc, redisCallbackFn *fn, void *privdata, int argc,
                       const char **argv, const size_t *argvlen);

/* Drops the link now (pending callbacks get NULL) and schedules a reconnect. */
void rconn_drop(struct rconn *rc, const char *why);

/* Frees the link for good; pending callbacks get NULL. No reconnect. */
void rconn_stop(struct rconn *rc);

bool rconn_is_up(const struct rconn *rc);

#endif
