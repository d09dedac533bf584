/*
 * throttle: see throttle.h.
 */
#include "throttle.h"

#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

struct throttle_entry {
    char addr[THROTTLE_ADDR_MAX];
    struct ratelimit rl;
};

static int throttle_cmp(const void *a, const void *b) {
    return strcmp(((const struct throttle_entry *)a)->addr,
                  ((const struct throttle_entry *)b)->addr);
}

static struct throttle_entry *throttle_find(struct throttle *t, const char *addr) {
    struct throttle_entry key;
    snprintf(key.addr, sizeof(key.addr), "%s", addr);
    void *found = tfind(&key, &t->tree, throttle_cmp);
    return found ? *(struct throttle_entry **)found : NULL;
}

void throttle_init(struct throttle *t, uint32_t burst, float per_sec, size_t max_entries) {
    memset(t, 0, sizeof(*t));
    t->burst = burst;
    t->per_sec = per_sec;
    t->max_entries = max_entries;
}

bool throttle_allowed(struct throttle *t, const char *addr, uint64_t now_ms) {
    struct throttle_entry *e = throttle_find(t, addr);
    return !e || ratelimit_peek(&e->rl, now_ms);
}

void throttle_failed(struct throttle *t, const char *addr, uint64_t now_ms) {
    struct throttle_entry *e = throttle_find(t, addr);
    if (!e) {
        if (t->n >= t->max_entries || !(e = calloc(1, sizeof(*e))))
            return;
        snprintf(e->addr, sizeof(e->addr), "%s", addr);
        ratelimit_init(&e->rl, t->burst, t->per_sec, now_ms);
        if (!tsearch(e, &t->tree, throttle_cmp)) {
            free(e);
            return;
        }
        t->n++;
    }
    ratelimit_take(&e->rl, now_ms);
}

struct throttle_walk {
    struct throttle_entry **full;
    size_t n;
    uint64_t now_ms;
};

static void throttle_collect(const void *node, VISIT which, void *closure) {
    struct throttle_walk *w = closure;
    struct throttle_entry *e = *(struct throttle_entry *const *)node;
    if ((which == postorder || which == leaf) && ratelimit_full(&e->rl, w->now_ms))
        w->full[w->n++] = e;
}

void throttle_sweep(struct throttle *t, uint64_t now_ms) {
    struct throttle_walk w = {.full = calloc(t->n + 1, sizeof(*w.full)), .now_ms = now_ms};
    if (!w.full)
        return;
    twalk_r(t->tree, throttle_collect, &w);
    for (size_t i = 0; i < w.n; i++) {
        tdelete(w.full[i], &t->tree, throttle_cmp);
        free(w.full[i]);
        t->n--;
    }
    free(w.full);
}

void throttle_free(struct throttle *t) {
    tdestroy(t->tree, free);
    t->tree = NULL;
    t->n = 0;
}
