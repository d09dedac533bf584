/*
 * metrics: the node's counters and gauges in one struct, and their
 * rendering in the Prometheus text exposition format 0.0.4 for /metrics.
 * Counters are plain integers bumped on the loop thread; nothing here
 * allocates except the rendering.
 */
#ifndef SIGNALD_METRICS_H
#define SIGNALD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define METRICS_LATENCY_BUCKETS 14

/* Why a join ended; the label of signald_joins_total. */
enum metrics_join {
    METRICS_JOIN_OK = 0,
    METRICS_JOIN_RECONNECTED,
    METRICS_JOIN_FULL,
    METRICS_JOIN_UNAUTHORIZED,
    METRICS_JOIN_FORBIDDEN,
    METRICS_JOIN_UNAVAILABLE,
    METRICS_JOIN_THROTTLED,
    METRICS_JOIN_COUNT
};

struct metrics {
    uint64_t connections_total;
    uint64_t joins[METRICS_JOIN_COUNT];
    uint64_t leaves_total;
    uint64_t messages_in[PROTO_TYPE_COUNT];
    uint64_t frames_out;
    uint64_t bad_messages;
    uint64_t bad_envelopes;
    uint64_t rate_limited;
    uint64_t flood_closes;
    uint64_t queue_drops;
    uint64_t relayed_local;
    uint64_t relayed_remote;
    uint64_t envelopes_in;
    uint64_t reaped_members;
    /* Relay latency from the sender's node to the receiver's, seconds. */
    uint64_t latency_buckets[METRICS_LATENCY_BUCKETS];
    uint64_t latency_count;
    double latency_sum;
};

/* Values read at render time from the rest of the server. */
struct metrics_gauges {
    size_t connections;
    size_t rooms;
    size_t members;
    size_t held;
    int redis_up;
    int ready;
    uint64_t redis_calls;
    uint64_t redis_errors;
    uint64_t redis_reconnects;
    uint64_t published;
    uint64_t publish_failures;
    uint64_t refused_paths;
};

void metrics_observe_latency(struct metrics *m, double seconds);

/* Renders everything; returns a malloc'd NUL-terminated text and its
 * length, or NULL on OOM. */
char *metrics_render(const struct metrics *m, const struct metrics_gauges *g, size_t *len);

#endif
