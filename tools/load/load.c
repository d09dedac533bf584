/*
 * load: see load.h.
 */
#include "load.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

uint64_t load_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t load_rand(struct load *ld) {
    uint64_t x = ld->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    ld->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

void load_window_begin(struct load *ld) {
    for (size_t i = 0; i < ld->n_targets; i++)
        procstat_sample(ld->targets[i].pid, &ld->before[i]);
    ld->self_before_us = procstat_self_cpu_us();
    ld->machine_before_us = procstat_machine_busy_us();
    ld->win_start_ns = load_now_ns();
}

void load_window_end(struct load *ld) {
    ld->win_end_ns = load_now_ns();
    ld->self_after_us = procstat_self_cpu_us();
    ld->machine_after_us = procstat_machine_busy_us();
    for (size_t i = 0; i < ld->n_targets; i++)
        procstat_sample(ld->targets[i].pid, &ld->after[i]);
}

/* How much of one counter (a uint64_t of struct procstat_sample, by its
 * offset) the targets of one kind used in the window; -1 if there are none
 * or one could not be read. */
static double load_sum_of(const struct load *ld, const char *kind, size_t field) {
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < ld->n_targets; i++) {
        if (strcmp(ld->targets[i].kind, kind) != 0)
            continue;
        if (!ld->before[i].ok || !ld->after[i].ok)
            return -1;
        uint64_t a, b;
        memcpy(&a, (const char *)&ld->after[i] + field, sizeof(a));
        memcpy(&b, (const char *)&ld->before[i] + field, sizeof(b));
        sum += (double)(a - b);
        n++;
    }
    return n ? sum : -1;
}

/* Wake-ups per unit of work: what the machine charges for each (a context
 * switch in and out) bounds how little CPU a unit can cost. */
static void load_report_sleeps(struct load *ld, double units) {
    double nodes = load_sum_of(ld, "node", offsetof(struct procstat_sample, sleeps));
    double redis = load_sum_of(ld, "redis", offsetof(struct procstat_sample, sleeps));
    if (units <= 0)
        return;
    if (nodes >= 0)
        report_add(&ld->rep, "wakeups_per_op_nodes", "wake-ups per op, nodes", nodes / units, "",
                   2);
    if (redis >= 0)
        report_add(&ld->rep, "wakeups_per_op_redis", "wake-ups per op, Redis", redis / units, "",
                   2);
}

void load_report_cpu(struct load *ld, double units) {
    struct report *r = &ld->rep;
    double wall_us = (double)(ld->win_end_ns - ld->win_start_ns) / 1000.0;
    double nodes = load_sum_of(ld, "node", offsetof(struct procstat_sample, cpu_us));
    double redis = load_sum_of(ld, "redis", offsetof(struct procstat_sample, cpu_us));
    double self = (double)(ld->self_after_us - ld->self_before_us);
    report_add(r, "window_s", "measured window", wall_us / 1e6, "s", 2);
    if (nodes >= 0) {
        report_add(r, "cpu_pct_nodes", "CPU nodes (all)", 100 * nodes / wall_us, "% of a core", 1);
        if (units > 0)
            report_add(r, "cpu_us_per_op_nodes", "CPU per op, nodes", nodes / units, "us", 2);
    }
    if (redis >= 0) {
        report_add(r, "cpu_pct_redis", "CPU Redis", 100 * redis / wall_us, "% of a core", 1);
        if (units > 0)
            report_add(r, "cpu_us_per_op_redis", "CPU per op, Redis", redis / units, "us", 2);
    }
    if (nodes >= 0 && redis >= 0 && units > 0)
        report_add(r, "cpu_us_per_op_total", "CPU per op, nodes + Redis", (nodes + redis) / units,
                   "us", 2);
    load_report_sleeps(ld, units);
    report_add(r, "cpu_pct_tool", "CPU load tool", 100 * self / wall_us, "% of a core", 1);
    if (units > 0)
        report_add(r, "cpu_us_per_op_tool", "CPU per op, load tool", self / units, "us", 2);
    /* This machine may be shared: what else ran in the window tells how
     * far the latencies can be trusted. */
    double machine = (double)(ld->machine_after_us - ld->machine_before_us);
    double others = machine - self - (nodes > 0 ? nodes : 0) - (redis > 0 ? redis : 0);
    report_add(r, "cpu_pct_others", "CPU other programs", others > 0 ? 100 * others / wall_us : 0,
               "% of a core", 1);
}

void load_report_rss(struct load *ld, const uint32_t *per_node, uint32_t total,
                     uint64_t tool_rss_before_kb) {
    struct report *r = &ld->rep;
    double node_sum = 0, node_rss = 0;
    int nodes = 0, node_idx = 0;
    for (size_t i = 0; i < ld->n_targets; i++) {
        const struct procstat_target *t = &ld->targets[i];
        if (!ld->before[i].ok || !ld->after[i].ok)
            continue;
        double grown = (double)ld->after[i].rss_kb - (double)ld->before[i].rss_kb;
        if (strcmp(t->kind, "node") == 0) {
            uint32_t conns = node_idx < WSC_MAX_ENDPOINTS ? per_node[node_idx] : 0;
            node_idx++;
            node_rss += (double)ld->after[i].rss_kb;
            if (conns) {
                node_sum += grown / conns;
                nodes++;
            }
        } else if (strcmp(t->kind, "redis") == 0 && total) {
            /* Redis holds the members of every part (same-sized parts). */
            report_add(r, "rss_kb_per_conn_redis", "RSS per connection, Redis",
                       grown / ((double)total * ld->opt.parts), "KB", 2);
            report_add(r, "rss_mb_redis", "RSS Redis", (double)ld->after[i].rss_kb / 1024, "MB", 1);
        }
    }
    if (nodes) {
        report_add(r, "rss_kb_per_conn_node", "RSS per connection, node (mean)", node_sum / nodes,
                   "KB", 2);
        report_add(r, "rss_mb_nodes", "RSS nodes (all)", node_rss / 1024, "MB", 1);
    }
    if (total)
        report_add(r, "rss_kb_per_conn_tool", "RSS per connection, load tool",
                   ((double)procstat_self_rss_kb() - (double)tool_rss_before_kb) / total, "KB", 2);
}
