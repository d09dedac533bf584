/*
 * load: what every scenario of signald-load shares: the options, the
 * tool's own libuv loop and WebSocket client context, the server processes
 * to watch, the measurement window and the report. One struct load lives
 * in main for the whole run; scenarios borrow it.
 */
#ifndef LOAD_LOAD_H
#define LOAD_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "procstat.h"
#include "report.h"
#include "wsc.h"

struct load_opts {
    const char *scenario;
    int rooms;
    int peers;
    double rate;        /* relay: signals/s; chat: broadcasts/s (offered, total) */
    double duration_s;  /* measured window */
    double warmup_s;    /* traffic before the window, not counted */
    double hold_s;      /* idle: how long the connections are held */
    size_t size;        /* bytes per message sent */
    int inflight;       /* join: joins in flight; others: connects in flight */
    int connections;    /* idle: connections in total */
    const char *secret; /* JWT_SECRET */
    const char *json_path;
    const char *label;
    const char *run_id; /* room name prefix; default: made up per run */
    uint32_t part;      /* this process drives members with index mod parts == part */
    uint32_t parts;     /* 1, or more when several processes share one fleet */
};

struct load {
    uv_loop_t loop;
    struct wsc wsc;
    struct load_opts opt;
    struct procstat_target targets[PROCSTAT_MAX];
    size_t n_targets;
    struct procstat_sample before[PROCSTAT_MAX];
    struct procstat_sample after[PROCSTAT_MAX];
    uint64_t self_before_us, self_after_us;
    uint64_t machine_before_us, machine_after_us;
    uint64_t win_start_ns, win_end_ns;
    struct report rep;
    char run_id[24]; /* prefix of room names, unique to this run */
    uint64_t rng;
    int failed; /* set when the run could not do its work (exit status 1) */
};

/* Monotonic nanoseconds. */
uint64_t load_now_ns(void);

/* A fast pseudo-random number (xorshift64*); not for anything secret. */
uint64_t load_rand(struct load *ld);

/* Samples the watched processes and the tool itself: at the start and at
 * the end of the measured window. */
void load_window_begin(struct load *ld);
void load_window_end(struct load *ld);

/* Adds the CPU figures of the window: server CPU per unit of work (nodes,
 * Redis, both), each side's share of a core, the tool's own CPU. */
void load_report_cpu(struct load *ld, double units);

/* Adds KB of RSS growth per connection for nodes (each node's growth over
 * its own connections, averaged over the nodes this process connected to),
 * Redis and the tool. per_node[i]: connections this process holds on the
 * i-th node; total: their sum (Redis's growth is divided by total times
 * the number of parts). */
void load_report_rss(struct load *ld, const uint32_t *per_node, uint32_t total,
                     uint64_t tool_rss_before_kb);

/* The scenarios; each runs the loop until it is done and fills ld->rep. */
int traffic_run(struct load *ld); /* relay, chat, ping */
int join_run(struct load *ld);
int idle_run(struct load *ld);

#endif
