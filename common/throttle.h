/*
 * throttle: failed attempts per source address, so one address cannot
 * hammer the token checks. Each address that failed gets a token bucket;
 * addresses whose bucket is full again are forgotten by throttle_sweep, so
 * memory follows the number of addresses failing right now (bounded by
 * max_entries; past it new addresses are not tracked). Pure: the caller
 * passes the time.
 */
#ifndef SIGNALD_THROTTLE_H
#define SIGNALD_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THROTTLE_ADDR_MAX 64

struct throttle {
    void *tree; /* tsearch tree of struct throttle_entry */
    size_t n;
    size_t max_entries;
    uint32_t burst;
    float per_sec;
};

void throttle_init(struct throttle *t, uint32_t burst, float per_sec, size_t max_entries);

/* True if addr may try again (its bucket is not empty). */
bool throttle_allowed(struct throttle *t, const char *addr, uint64_t now_ms);

/* Records one failure of addr. */
void throttle_failed(struct throttle *t, const char *addr, uint64_t now_ms);

/* Forgets the addresses whose bucket has refilled. */
void throttle_sweep(struct throttle *t, uint64_t now_ms);

void throttle_free(struct throttle *t);

#endif
