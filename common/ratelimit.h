/*
 * ratelimit: a token bucket per connection. Pure: the caller passes the
 * monotonic time in, so tests drive it without sleeping.
 */
#ifndef SIGNALD_RATELIMIT_H
#define SIGNALD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
    double tokens;
    uint64_t last_ms;
    uint32_t burst;
    float per_sec;
};

void ratelimit_init(struct ratelimit *rl, uint32_t burst, float per_sec, uint64_t now_ms);

/* Takes one token. Returns true if the message is allowed. */
bool ratelimit_take(struct ratelimit *rl, uint64_t now_ms);

/* Refills up to now; returns true if a token is available (none is taken). */
bool ratelimit_peek(struct ratelimit *rl, uint64_t now_ms);

/* True when the bucket is full again (the entry can be forgotten). */
bool ratelimit_full(struct ratelimit *rl, uint64_t now_ms);

#endif
