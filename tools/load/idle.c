/*
 * idle: N connections that join rooms of --peers (4) and then say
 * nothing, held for --hold seconds. What the servers keep per connection
 * is their RSS growth from before the first connect to the end of the
 * hold, divided by the connections each holds.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fleet.h"
#include "load.h"

struct idle {
    struct load *ld;
    struct fleet fl;
    uint64_t tool_rss_kb;
    bool done;
    uv_timer_t hold;
};

static void idle_on_hold_end(uv_timer_t *t) {
    struct idle *id = t->data;
    struct load *ld = id->ld;
    struct fleet *fl = &id->fl;
    struct report *r = &ld->rep;
    uint32_t per_node[WSC_MAX_ENDPOINTS];

    load_window_end(ld);
    fleet_per_node(fl, per_node);
    report_add(r, "nodes", "nodes", ld->wsc.n_ep, "", 0);
    report_add(r, "connections", "connections held", fl->n_joined - fl->n_dropped, "", 0);
    report_add(r, "connect_failed", "connections failed", fl->n_failed, "", 0);
    report_add(r, "dropped", "dropped while held", fl->n_dropped, "", 0);
    report_add(r, "per_node", "connections per node",
               (double)fl->n_joined * ld->opt.parts / ld->wsc.n_ep, "", 0);
    report_add(r, "setup_s", "setup (connect, join, settle)",
               (double)(fl->ready_ns - fl->started_ns) / 1e9, "s", 2);
    report_add(r, "joins_per_s", "joins per second while connecting",
               (double)fl->n_joined / ((double)(fl->ready_ns - fl->started_ns) / 1e9), "/s", 0);
    report_add(r, "lat_p50_ms", "join latency p50", (double)hist_quantile(&fl->join_lat, 0.5) / 1e6,
               "ms", 3);
    report_add(r, "lat_p99_ms", "join latency p99",
               (double)hist_quantile(&fl->join_lat, 0.99) / 1e6, "ms", 3);
    report_add(r, "hold_s", "held for", ld->opt.hold_s, "s", 1);
    load_report_rss(ld, per_node, fl->n_joined, id->tool_rss_kb);
    load_report_cpu(ld, (double)fl->n_joined * ld->opt.parts);
    if (fl->n_joined == 0 || fl->n_failed)
        ld->failed = 1;
    id->done = true;
    fleet_close_all(fl);
}

static void idle_on_ready(struct fleet *fl) {
    struct idle *id = fl->data;
    uv_timer_start(&id->hold, idle_on_hold_end, (uint64_t)(id->ld->opt.hold_s * 1000), 0);
}

static void idle_on_message(struct fleet *fl, struct fleet_member *m, enum msg_type type,
                            const char *buf, size_t len) {
    struct load *ld = fl->ld;
    (void)m;
    if (type == MSG_ERROR && !ld->rep.note[0])
        snprintf(ld->rep.note, sizeof(ld->rep.note), "first error frame: %.*s",
                 (int)(len > 120 ? 120 : len), buf);
}

static size_t idle_on_writable(struct fleet *fl, struct fleet_member *m, char *buf, size_t cap) {
    (void)fl;
    (void)m;
    (void)buf;
    (void)cap;
    return 0;
}

static void idle_on_all_closed(struct fleet *fl) {
    uv_stop(&fl->ld->loop);
}

static const struct fleet_hooks idle_hooks = {
    .on_ready = idle_on_ready,
    .on_message = idle_on_message,
    .on_writable = idle_on_writable,
    .on_all_closed = idle_on_all_closed,
};

int idle_run(struct load *ld) {
    struct idle *id = calloc(1, sizeof(*id));
    int rc = -1;
    if (!id)
        return -1;
    id->ld = ld;
    uint32_t peers = (uint32_t)ld->opt.peers;
    uint32_t rooms = ((uint32_t)ld->opt.connections + peers - 1) / peers;
    if (fleet_init(&id->fl, ld, rooms, peers, &idle_hooks) < 0)
        goto out;
    id->fl.data = id;
    if (wsc_init(&ld->wsc, &ld->loop, &fleet_wsc_ops) < 0)
        goto out;
    uv_timer_init(&ld->loop, &id->hold);
    id->hold.data = id;
    id->tool_rss_kb = procstat_self_rss_kb();
    load_window_begin(ld);
    fleet_connect(&id->fl);
    uv_run(&ld->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&id->hold, NULL);
    uv_close((uv_handle_t *)&id->fl.timer, NULL);
    wsc_destroy(&ld->wsc);
    rc = id->done ? 0 : -1;
out:
    fleet_free(&id->fl);
    free(id);
    return rc;
}
