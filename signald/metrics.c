/*
 * metrics: see metrics.h.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const double metrics_bounds[METRICS_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
};

static const char *const metrics_join_names[METRICS_JOIN_COUNT] = {
    "ok", "reconnected", "room_full", "unauthorized", "forbidden", "unavailable", "throttled",
};

void metrics_observe_latency(struct metrics *m, double seconds) {
    if (seconds < 0)
        seconds = 0;
    for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++)
        if (seconds <= metrics_bounds[i])
            m->latency_buckets[i]++;
    m->latency_count++;
    m->latency_sum += seconds;
}

/* A growing text buffer; on OOM it stops growing and remembers it. */
struct metrics_buf {
    char *p;
    size_t len, cap;
    int oom;
};

static void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void metrics_printf(struct metrics_buf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        if (b->oom)
            return;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 8192;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static void metrics_one(struct metrics_buf *b, const char *name, const char *type, const char *help,
                        double value) {
    metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name,
                   value);
}

static void metrics_head(struct metrics_buf *b, const char *name, const char *type,
                         const char *help) {
    metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *metrics_render(const struct metrics *m, const struct metrics_gauges *g, size_t *len) {
    struct metrics_buf b = {0};

    metrics_one(&b, "signald_connections", "gauge", "WebSocket connections open on this node.",
                (double)g->connections);
    metrics_one(&b, "signald_rooms", "gauge", "Rooms with members on this node.", (double)g->rooms);
    metrics_one(&b, "signald_members", "gauge", "Room members connected to this node.",
                (double)g->members);
    metrics_one(&b, "signald_members_held", "gauge",
                "Members whose socket dropped, held for a quick reconnect.", (double)g->held);
    metrics_one(&b, "signald_ready", "gauge", "1 when the node can serve joins.", g->ready);
    metrics_one(&b, "signald_redis_up", "gauge", "1 while both Redis links are up.", g->redis_up);
    metrics_one(&b, "signald_connections_total", "counter", "WebSocket connections accepted.",
                (double)m->connections_total);
    metrics_one(&b, "signald_refused_paths_total", "counter",
                "Upgrades refused with 400 or 404 for their path.", (double)g->refused_paths);

    metrics_head(&b, "signald_joins_total", "counter", "Join attempts by outcome.");
    for (int i = 0; i < METRICS_JOIN_COUNT; i++)
        metrics_printf(&b, "signald_joins_total{result=\"%s\"} %llu\n", metrics_join_names[i],
                       (unsigned long long)m->joins[i]);
    metrics_one(&b, "signald_leaves_total", "counter", "Members that left a room.",
                (double)m->leaves_total);

    metrics_head(&b, "signald_messages_in_total", "counter", "Client messages by type.");
    for (int i = 0; i < PROTO_TYPE_COUNT; i++)
        metrics_printf(&b, "signald_messages_in_total{type=\"%s\"} %llu\n",
                       proto_type_name((enum proto_type)i), (unsigned long long)m->messages_in[i]);
    metrics_one(&b, "signald_messages_out_total", "counter", "Frames queued to clients.",
                (double)m->frames_out);
    metrics_one(&b, "signald_bad_messages_total", "counter",
                "Client messages answered with bad_request or unknown_type.",
                (double)m->bad_messages);
    metrics_one(&b, "signald_rate_limited_total", "counter",
                "Client messages dropped by the rate limit.", (double)m->rate_limited);
    metrics_one(&b, "signald_flood_closes_total", "counter",
                "Connections closed with 4029 for flooding.", (double)m->flood_closes);
    metrics_one(&b, "signald_queue_drops_total", "counter",
                "Slow clients cut off because their outgoing queue was full.",
                (double)m->queue_drops);

    metrics_head(&b, "signald_relayed_total", "counter", "Signals relayed, by path.");
    metrics_printf(&b, "signald_relayed_total{path=\"local\"} %llu\n",
                   (unsigned long long)m->relayed_local);
    metrics_printf(&b, "signald_relayed_total{path=\"remote\"} %llu\n",
                   (unsigned long long)m->relayed_remote);

    metrics_head(&b, "signald_relay_latency_seconds", "histogram",
                 "Delay from the sender's node to this node for relayed messages.");
    for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++)
        metrics_printf(&b, "signald_relay_latency_seconds_bucket{le=\"%g\"} %llu\n",
                       metrics_bounds[i], (unsigned long long)m->latency_buckets[i]);
    metrics_printf(&b, "signald_relay_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
                   (unsigned long long)m->latency_count);
    metrics_printf(&b, "signald_relay_latency_seconds_sum %.9f\n", m->latency_sum);
    metrics_printf(&b, "signald_relay_latency_seconds_count %llu\n",
                   (unsigned long long)m->latency_count);

    metrics_one(&b, "signald_envelopes_in_total", "counter",
                "Messages received from other nodes through Redis.", (double)m->envelopes_in);
    metrics_one(&b, "signald_bad_envelopes_total", "counter",
                "Messages from Redis that did not decode.", (double)m->bad_envelopes);
    metrics_one(&b, "signald_published_total", "counter", "PUBLISH commands sent.",
                (double)g->published);
    metrics_one(&b, "signald_publish_failures_total", "counter",
                "Messages that could not be published (Redis unreachable).",
                (double)g->publish_failures);
    metrics_one(&b, "signald_redis_commands_total", "counter", "Redis script calls sent.",
                (double)g->redis_calls);
    metrics_one(&b, "signald_redis_errors_total", "counter",
                "Redis script calls that failed or timed out.", (double)g->redis_errors);
    metrics_one(&b, "signald_redis_reconnects_total", "counter",
                "Redis connections re-established after a loss.", (double)g->redis_reconnects);
    metrics_one(&b, "signald_reaped_members_total", "counter",
                "Members of dead nodes this node removed.", (double)m->reaped_members);

    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
