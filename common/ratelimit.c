/*
 * ratelimit: see ratelimit.h.
 */
#include "ratelimit.h"

void ratelimit_init(struct ratelimit *rl, uint32_t burst, float per_sec, uint64_t now_ms) {
    rl->tokens = burst;
    rl->last_ms = now_ms;
    rl->burst = burst;
    rl->per_sec = per_sec;
}

static void ratelimit_refill(struct ratelimit *rl, uint64_t now_ms) {
    if (now_ms > rl->last_ms) {
        rl->tokens += (double)(now_ms - rl->last_ms) * rl->per_sec / 1000.0;
        if (rl->tokens > rl->burst)
            rl->tokens = rl->burst;
        rl->last_ms = now_ms;
    }
}

bool ratelimit_take(struct ratelimit *rl, uint64_t now_ms) {
    ratelimit_refill(rl, now_ms);
    if (rl->tokens < 1.0)
        return false;
    rl->tokens -= 1.0;
    return true;
}

bool ratelimit_peek(struct ratelimit *rl, uint64_t now_ms) {
    ratelimit_refill(rl, now_ms);
    return rl->tokens >= 1.0;
}

bool ratelimit_full(struct ratelimit *rl, uint64_t now_ms) {
    ratelimit_refill(rl, now_ms);
    return rl->tokens >= rl->burst;
}
