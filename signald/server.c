/*
 * server: see server.h. Shutdown runs in a fixed order: stop accepting and
 * close clients with 1001 (drain), let held memberships resolve, leave the
 * loop, destroy the lws context (two passes, see PLATFORM.md), free what is
 * left of the connections, drop the Redis links, close our own handles, run
 * the loop until every close callback has fired, then close the loop.
 */
#include "server.h"

#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "keys.h"
#include "log.h"
#include "room.h"
#include "ws.h"

#define SERVER_TICK_MS        100
#define SERVER_SWEEP_EVERY_MS 10000
#define SERVER_THROTTLE_MAX   100000 /* source addresses tracked at once */
#define SERVER_DRAIN_EXTRA_MS 2000   /* past the drain window, for the last closes */
#define SERVER_RESERVED_FDS   256    /* past MAX_CONNECTIONS: Redis, listener, files, refusals */

static struct server *server_instance;

struct server *server_get(void) {
    return server_instance;
}

bool server_ready(struct server *srv) {
    return !srv->draining && rconn_is_up(&srv->store.link) && bus_ready(&srv->bus);
}

/* Closes up to *budget sockets with 1001 (the client reconnects, to any
 * node, and is shown as reconnected). */
static void server_close_some(struct conn *c, void *data) {
    size_t *budget = data;
    if (*budget == 0 || !c->wsi || c->close_code)
        return;
    (*budget)--;
    conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, NULL, NULL);
}

static void server_count_sockets(struct conn *c, void *data) {
    *(size_t *)data += c->wsi != NULL;
}

void server_drain(struct server *srv) {
    if (srv->draining)
        return;
    srv->draining = true;
    srv->drain_started_ms = clock_mono_ms();
    registry_each(&srv->reg, server_count_sockets, &srv->drain_total);
    log_info("event=drain sockets=%zu window_s=%d", srv->drain_total, srv->cfg->drain_s);
}

/* One tick of the drain: closes the share of sockets due by now, so that
 * reconnects spread over DRAIN_SECONDS instead of landing on the other
 * nodes at once. Returns true when the node may exit. */
static bool server_drain_step(struct server *srv, uint64_t now) {
    size_t open = 0;
    registry_each(&srv->reg, server_count_sockets, &open);
    uint64_t window = (uint64_t)srv->cfg->drain_s * 1000u;
    uint64_t elapsed = now - srv->drain_started_ms;
    size_t due = window == 0 || elapsed >= window
                     ? srv->drain_total
                     : (size_t)((srv->drain_total * elapsed + window - 1) / window);
    size_t closed = srv->drain_total > open ? srv->drain_total - open : 0;
    size_t budget = due > closed ? due - closed : 0;
    if (elapsed >= window)
        budget = open;
    if (budget)
        registry_each(&srv->reg, server_close_some, &budget);
    if (open > 0 && now < srv->drain_started_ms + window + SERVER_DRAIN_EXTRA_MS)
        return false;
    /* Every socket is gone (or would not go): hand the held members to the
     * others' sweep, after the grace period, and wait for Redis to answer. */
    node_retire(srv);
    return srv->store.n_inflight == 0 || !rconn_is_up(&srv->store.link) ||
           now >= srv->drain_started_ms + window + 2 * SERVER_DRAIN_EXTRA_MS;
}

static void server_on_tick(uv_timer_t *t) {
    struct server *srv = t->data;
    uint64_t now = clock_mono_ms();
    rconn_tick(&srv->store.link, now);
    bus_tick(&srv->bus, now);
    node_tick(srv, now);
    room_tick(srv, now);
    if (now >= srv->sweep_at_ms) {
        srv->sweep_at_ms = now + SERVER_SWEEP_EVERY_MS;
        throttle_sweep(&srv->bad_tokens, now);
    }
    if (srv->draining && server_drain_step(srv, now))
        uv_stop(&srv->loop);
}

static void server_on_signal(uv_signal_t *h, int signum) {
    struct server *srv = h->data;
    if (srv->draining && signum == SIGINT) {
        log_info("event=stop_now");
        uv_stop(&srv->loop);
        return;
    }
    log_info("event=signal signum=%d", signum);
    server_drain(srv);
}

/* lws logs through ours. */
static void server_lws_log(int level, const char *line) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_at(level == LLL_ERR    ? LOG_LEVEL_ERROR
           : level == LLL_WARN ? LOG_LEVEL_WARN
                               : LOG_LEVEL_DEBUG,
           "event=lws msg=\"%.*s\"", (int)n, line);
}

static void server_rconn_init(struct rconn *rc, struct server *srv, const char *name) {
    const struct config *cfg = srv->cfg;
    rc->loop = &srv->loop;
    rc->name = name;
    rc->host = cfg->redis_host;
    rc->port = cfg->redis_port;
    rc->password = cfg->redis_password;
    rc->db = cfg->redis_db;
    rc->timeout_ms = (uint32_t)cfg->redis_timeout_ms;
}

/* With STATIC_DIR set, "/" serves its files; the API paths stay ours. */
static const struct lws_http_mount server_mount_api = {
    .mountpoint = "/api/",
    .origin = "signald",
    .protocol = "signald",
    .origin_protocol = LWSMPRO_CALLBACK,
    .mountpoint_len = 5,
};
static const struct lws_http_mount server_mount_metrics = {
    .mount_next = &server_mount_api,
    .mountpoint = "/metrics",
    .origin = "signald",
    .protocol = "signald",
    .origin_protocol = LWSMPRO_CALLBACK,
    .mountpoint_len = 8,
};
static const struct lws_http_mount server_mount_readyz = {
    .mount_next = &server_mount_metrics,
    .mountpoint = "/readyz",
    .origin = "signald",
    .protocol = "signald",
    .origin_protocol = LWSMPRO_CALLBACK,
    .mountpoint_len = 7,
};
static const struct lws_http_mount server_mount_healthz = {
    .mount_next = &server_mount_readyz,
    .mountpoint = "/healthz",
    .origin = "signald",
    .protocol = "signald",
    .origin_protocol = LWSMPRO_CALLBACK,
    .mountpoint_len = 8,
};
static struct lws_http_mount server_mount_static = {
    .mount_next = &server_mount_healthz,
    .mountpoint = "/",
    .def = "index.html",
    .origin_protocol = LWSMPRO_FILE,
    .mountpoint_len = 1,
};

/* Sets the descriptor limit to what MAX_CONNECTIONS needs, as Redis does
 * for maxclients: raised when it is lower (up to the hard limit), lowered
 * when it is higher. lws sizes its descriptor tables from this limit;
 * given a smaller size instead (fd_limit_per_thread) it switches to tables
 * it searches linearly on every socket it adds or removes. */
static void server_fd_limit(const struct config *cfg) {
    struct rlimit rl;
    rlim_t want = (rlim_t)cfg->max_connections + SERVER_RESERVED_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        log_warn("event=fd_limit hard=%llu max_connections=%d reachable=%llu",
                 (unsigned long long)rl.rlim_max, cfg->max_connections,
                 (unsigned long long)(rl.rlim_max > SERVER_RESERVED_FDS
                                          ? rl.rlim_max - SERVER_RESERVED_FDS
                                          : 0));
        want = rl.rlim_max;
    }
    if (rl.rlim_cur == want)
        return;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        log_warn("event=fd_limit_failed want=%llu", (unsigned long long)want);
}

static int server_listen(struct server *srv) {
    static const lws_retry_bo_t retry_base = {0};
    static lws_retry_bo_t retry;
    struct lws_context_creation_info info;
    void *foreign_loops[1] = {&srv->loop};

    retry = retry_base;
    retry.secs_since_valid_ping = (uint16_t)srv->cfg->ping_interval_s;
    retry.secs_since_valid_hangup = (uint16_t)srv->cfg->idle_timeout_s;

    server_fd_limit(srv->cfg);
    /* Not more: lws' info lines can carry request paths, hence tokens. */
    lws_set_log_level(LLL_ERR | LLL_WARN, server_lws_log);
    memset(&info, 0, sizeof(info));
    /* lws listens on nothing: the listener accepts and hands sockets over. */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = ws_protocols;
    info.user = srv;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                   LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = foreign_loops;
    info.pcontext = &srv->lws;
    info.retry_and_idle_policy = &retry;
    info.timeout_secs = 10;
    info.max_http_header_data = 4096 + AUTH_MAX_TOKEN;
    if (srv->cfg->static_dir && srv->cfg->static_dir[0]) {
        server_mount_static.origin = srv->cfg->static_dir;
        info.mounts = &server_mount_static;
    }

    srv->lws = lws_create_context(&info);
    if (!srv->lws) {
        log_error("event=listen_failed reason=\"lws_create_context failed\"");
        return -1;
    }
    struct lws_vhost *vhost = lws_get_vhost_by_name(srv->lws, "default");
    if (!vhost) {
        log_error("event=listen_failed reason=\"no vhost\"");
        return -1;
    }
    return listener_start(&srv->listener, &srv->loop, vhost, srv->cfg->bind, srv->cfg->port);
}

int server_start(struct server *srv, struct config *cfg) {
    memset(srv, 0, sizeof(*srv));
    server_instance = srv;
    srv->cfg = cfg;
    srv->auth = (struct auth_params){
        .alg = cfg->jwt_alg,
        .key = cfg->jwt_key,
        .key_len = cfg->jwt_key_len,
        .leeway_s = cfg->jwt_leeway_s,
        .require_exp = cfg->jwt_require_exp,
    };
    if (uv_loop_init(&srv->loop) != 0)
        return -1;
    lwsout_init(&srv->out, &srv->loop);
    if (server_listen(srv) < 0) {
        lwsout_close(&srv->out);
        if (srv->lws) {
            lws_context_destroy(srv->lws);
            uv_run(&srv->loop, UV_RUN_DEFAULT);
            lws_context_destroy(srv->lws);
            uv_run(&srv->loop, UV_RUN_DEFAULT);
        }
        uv_loop_close(&srv->loop);
        return -1;
    }

    throttle_init(&srv->bad_tokens, (uint32_t)cfg->bad_token_burst,
                  (float)cfg->bad_token_per_min / 60.0f, SERVER_THROTTLE_MAX);
    node_init(srv);
    server_rconn_init(&srv->store.link, srv, "cmd");
    srv->store.node_id = cfg->node_id;
    srv->store.on_link = node_on_store_link;
    srv->store.data = srv;
    store_start(&srv->store);

    server_rconn_init(&srv->bus.sub, srv, "sub");
    srv->bus.cmd = &srv->store.link;
    srv->bus.on_message = room_on_bus;
    srv->bus.on_confirm = room_on_confirm;
    srv->bus.data = srv;
    keys_node_channel(srv->heartbeat, sizeof(srv->heartbeat), cfg->node_id);
    bus_start(&srv->bus, srv->heartbeat);

    uv_timer_init(&srv->loop, &srv->tick);
    srv->tick.data = srv;
    uv_timer_start(&srv->tick, server_on_tick, SERVER_TICK_MS, SERVER_TICK_MS);
    uv_signal_init(&srv->loop, &srv->sigterm);
    uv_signal_init(&srv->loop, &srv->sigint);
    srv->sigterm.data = srv->sigint.data = srv;
    uv_signal_start(&srv->sigterm, server_on_signal, SIGTERM);
    uv_signal_start(&srv->sigint, server_on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void server_free_conn(struct conn *c, void *data) {
    struct server *srv = data;
    if (c->state == CONN_HELD)
        lws_dll2_remove(&c->held_link);
    registry_room_remove(&srv->reg, c);
    registry_remove(&srv->reg, c);
    conn_free(c);
}

int server_run(struct server *srv) {
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    log_info("event=stopping connections=%zu", srv->reg.n_conns);

    /* Our handles first, so that the loop can run dry around lws. */
    listener_stop(&srv->listener);
    uv_close((uv_handle_t *)&srv->tick, NULL);
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    lwsout_close(&srv->out);
    bus_stop(&srv->bus);
    store_stop(&srv->store);

    /* lws needs two passes on a foreign loop: the first closes its handles,
     * the second frees the context once their callbacks have run. */
    lws_context_destroy(srv->lws);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    lws_context_destroy(srv->lws);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    srv->lws = NULL;

    registry_each(&srv->reg, server_free_conn, srv);
    registry_clear(&srv->reg);
    node_free(srv);
    throttle_free(&srv->bad_tokens);
    int rc = uv_loop_close(&srv->loop);
    if (rc != 0)
        log_error("event=loop_close_failed err=%s", uv_strerror(rc));
    log_info("event=stopped");
    server_instance = NULL;
    return rc == 0 ? 0 : -1;
}
