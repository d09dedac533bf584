/*
 * server: the one process-wide struct. It owns the libuv loop, the lws
 * context, the Redis links (store and bus), the registry of local
 * connections and the counters /metrics reports, and runs start-up and the
 * ordered shutdown.
 */
#ifndef SIGNALD_SERVER_H
#define SIGNALD_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>
#include <uv.h>

#include "auth.h"
#include "bus.h"
#include "config.h"
#include "lwsout.h"
#include "listener.h"
#include "metrics.h"
#include "node.h"
#include "registry.h"
#include "store.h"
#include "throttle.h"

struct server {
    uv_loop_t loop;
    struct config *cfg;
    struct auth_params auth;
    struct lws_context *lws;
    struct listener listener;
    struct store store;
    struct bus bus;
    struct registry reg;
    struct lwsout out; /* WRITEABLE callbacks for the client sockets */
    uv_timer_t tick;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uint64_t next_conn_id;
    bool draining;
    uint64_t drain_started_ms;
    size_t drain_total; /* sockets open when the drain began */
    struct metrics metrics;
    struct node node;
    struct throttle bad_tokens; /* failed token checks per source address */
    uint64_t sweep_at_ms;
    char heartbeat[KEYS_MAX];
};

/* The process's server (there is exactly one). */
struct server *server_get(void);

/* Creates the loop, the listener and the Redis links. Returns 0, or -1
 * with the reason logged (nothing left running). */
int server_start(struct server *srv, struct config *cfg);

/* Runs until shutdown has completed. Returns 0 on a clean stop. */
int server_run(struct server *srv);

/* Starts the drain: /readyz 503, clients closed with 1001. */
void server_drain(struct server *srv);

/* True when the node can serve joins. */
bool server_ready(struct server *srv);

#endif
