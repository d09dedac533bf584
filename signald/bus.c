/*
 * bus: see bus.h. Each channel moves through IDLE (not subscribed, link
 * down) -> SUBSCRIBING -> ACTIVE -> UNSUBSCRIBING. hiredis 0.14 keeps one
 * callback per channel and drops it when the unsubscribe reply arrives, so
 * a channel is never subscribed again before that reply: a reference taken
 * while UNSUBSCRIBING is served by a fresh SUBSCRIBE once it lands.
 */
#include "bus.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "log.h"

#define BUS_HEARTBEAT_EVERY_MS 1000

enum bus_state { BUS_IDLE = 0, BUS_SUBSCRIBING, BUS_ACTIVE, BUS_UNSUBSCRIBING };

struct bus_channel {
    char *name;
    int refs;
    enum bus_state state;
    bool resync;       /* subscribed again after the link came back, not yet confirmed */
    uint64_t *waiters; /* connection ids waiting for confirmation */
    size_t n_waiters;
    size_t cap_waiters;
};

static int bus_channel_cmp(const void *a, const void *b) {
    const struct bus_channel *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static struct bus_channel *bus_find(struct bus *b, const char *name) {
    struct bus_channel key = {.name = (char *)name};
    void *found = tfind(&key, &b->channels, bus_channel_cmp);
    return found ? *(struct bus_channel **)found : NULL;
}

static void bus_channel_free(struct bus_channel *ch) {
    free(ch->name);
    free(ch->waiters);
    free(ch);
}

static void bus_remove(struct bus *b, struct bus_channel *ch) {
    if (ch->resync)
        b->n_resync--;
    tdelete(ch, &b->channels, bus_channel_cmp);
    bus_channel_free(ch);
}

static void bus_on_reply(redisAsyncContext *ac, void *r, void *privdata);

static void bus_send(struct bus *b, struct bus_channel *ch, const char *verb) {
    const char *argv[2] = {verb, ch->name};
    size_t lens[2] = {strlen(verb), strlen(ch->name)};
    redisCallbackFn *fn = strcmp(verb, "SUBSCRIBE") == 0 ? bus_on_reply : NULL;
    if (rconn_command_argv(&b->sub, fn, b, 2, argv, lens) == 0)
        ch->state = strcmp(verb, "SUBSCRIBE") == 0 ? BUS_SUBSCRIBING : BUS_UNSUBSCRIBING;
    else
        ch->state = BUS_IDLE;
}

/* Hands every waiter its answer and forgets them. */
static void bus_settle(struct bus *b, struct bus_channel *ch, bool ok) {
    size_t n = ch->n_waiters;
    uint64_t *w = ch->waiters;
    ch->waiters = NULL;
    ch->n_waiters = ch->cap_waiters = 0;
    for (size_t i = 0; i < n; i++)
        b->on_confirm(w[i], ok, b->data);
    free(w);
}

static void bus_on_subscribed(struct bus *b, struct bus_channel *ch) {
    if (ch->state != BUS_SUBSCRIBING)
        return;
    ch->state = BUS_ACTIVE;
    if (ch->resync) {
        ch->resync = false;
        b->n_resync--;
    }
    if (ch->refs == 0) {
        bus_send(b, ch, "UNSUBSCRIBE");
        if (ch->state == BUS_IDLE)
            bus_remove(b, ch);
        return;
    }
    bus_settle(b, ch, true);
}

static void bus_on_unsubscribed(struct bus *b, struct bus_channel *ch) {
    if (ch->refs > 0)
        bus_send(b, ch, "SUBSCRIBE");
    else
        bus_remove(b, ch);
}

static void bus_on_reply(redisAsyncContext *ac, void *r, void *privdata) {
    struct bus *b = privdata;
    redisReply *reply = r;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = reply->element[0]->str;
    const char *name = reply->element[1]->str;
    rconn_alive(&b->sub);
    if (strcmp(kind, "message") == 0) {
        if (strcmp(name, b->heartbeat) == 0 || reply->element[2]->type != REDIS_REPLY_STRING)
            return;
        b->on_message(name, reply->element[2]->str, reply->element[2]->len, b->data);
        return;
    }
    struct bus_channel *ch = bus_find(b, name);
    if (!ch)
        return;
    if (strcmp(kind, "subscribe") == 0 && strcmp(name, b->heartbeat) == 0)
        b->heartbeat_ok = true;
    if (strcmp(kind, "subscribe") == 0)
        bus_on_subscribed(b, ch);
    else if (strcmp(kind, "unsubscribe") == 0)
        bus_on_unsubscribed(b, ch);
}

/* ---- Link state ---- */

/* What a walk over the tree gathers, to act on once the walk is over (the
 * actions may change the tree). */
struct bus_gather {
    struct bus_channel **unused; /* refs == 0: to forget */
    size_t n_unused, cap_unused;
    uint64_t *waiters; /* to tell that their channels failed */
    size_t n_waiters, cap_waiters;
    size_t n_resync_cleared;
    bool oom;
};

static void bus_gather_push(void **v, size_t *n, size_t *cap, size_t size, const void *item,
                            bool *oom) {
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        void *nv = realloc(*v, ncap * size);
        if (!nv) {
            *oom = true;
            return;
        }
        *v = nv;
        *cap = ncap;
    }
    memcpy((char *)*v + *n * size, item, size);
    (*n)++;
}

static void bus_walk_down(const void *node, VISIT which, void *closure) {
    struct bus_gather *g = closure;
    struct bus_channel *ch = *(struct bus_channel *const *)node;
    if (which != postorder && which != leaf)
        return;
    ch->state = BUS_IDLE;
    if (ch->resync) {
        ch->resync = false;
        g->n_resync_cleared++;
    }
    for (size_t i = 0; i < ch->n_waiters; i++)
        bus_gather_push((void **)&g->waiters, &g->n_waiters, &g->cap_waiters, sizeof(uint64_t),
                        &ch->waiters[i], &g->oom);
    ch->n_waiters = 0;
    if (ch->refs == 0)
        bus_gather_push((void **)&g->unused, &g->n_unused, &g->cap_unused, sizeof(ch), &ch,
                        &g->oom);
}

static void bus_walk_up(const void *node, VISIT which, void *closure) {
    struct bus *b = closure;
    struct bus_channel *ch = *(struct bus_channel *const *)node;
    if ((which == postorder || which == leaf) && ch->state == BUS_IDLE && ch->refs > 0) {
        bus_send(b, ch, "SUBSCRIBE");
        if (ch->state == BUS_SUBSCRIBING && !ch->resync) {
            ch->resync = true;
            b->n_resync++;
        }
    }
}

static void bus_on_link(struct rconn *rc, enum rconn_state state, void *data) {
    struct bus *b = data;
    (void)rc;
    if (state == RCONN_UP) {
        twalk_r(b->channels, bus_walk_up, b);
        return;
    }
    struct bus_gather g = {0};
    b->heartbeat_ok = false;
    twalk_r(b->channels, bus_walk_down, &g);
    b->n_resync -= g.n_resync_cleared;
    if (g.oom)
        log_error("event=oom where=bus_on_link");
    for (size_t i = 0; i < g.n_unused; i++)
        bus_remove(b, g.unused[i]);
    for (size_t i = 0; i < g.n_waiters; i++)
        b->on_confirm(g.waiters[i], false, b->data);
    free(g.unused);
    free(g.waiters);
}

int bus_start(struct bus *b, const char *heartbeat_channel) {
    snprintf(b->heartbeat, sizeof(b->heartbeat), "%s", heartbeat_channel);
    b->sub.ping = false;
    b->sub.on_state = bus_on_link;
    b->sub.data = b;
    if (bus_ref(b, b->heartbeat, 0) < 0)
        return -1;
    return rconn_start(&b->sub);
}

void bus_tick(struct bus *b, uint64_t now_ms) {
    /* Without a command link no heartbeat can be sent: the subscriber link
     * cannot be judged, so it is not. */
    if (!rconn_is_up(b->cmd))
        rconn_alive(&b->sub);
    else if (rconn_is_up(&b->sub) && now_ms - b->heartbeat_at_ms >= BUS_HEARTBEAT_EVERY_MS) {
        b->heartbeat_at_ms = now_ms;
        bus_publish(b, b->heartbeat, "1", 1, NULL, NULL);
    }
    rconn_tick(&b->sub, now_ms);
}

static int bus_add_waiter(struct bus_channel *ch, uint64_t waiter) {
    if (ch->n_waiters == ch->cap_waiters) {
        size_t cap = ch->cap_waiters ? ch->cap_waiters * 2 : 4;
        uint64_t *w = realloc(ch->waiters, cap * sizeof(*w));
        if (!w)
            return -1;
        ch->waiters = w;
        ch->cap_waiters = cap;
    }
    ch->waiters[ch->n_waiters++] = waiter;
    return 0;
}

int bus_ref(struct bus *b, const char *channel, uint64_t waiter) {
    struct bus_channel *ch = bus_find(b, channel);
    if (!ch) {
        ch = calloc(1, sizeof(*ch));
        if (!ch || !(ch->name = strdup(channel))) {
            free(ch);
            return -1;
        }
        if (!tsearch(ch, &b->channels, bus_channel_cmp)) {
            bus_channel_free(ch);
            return -1;
        }
    }
    if (ch->state == BUS_ACTIVE) {
        ch->refs++;
        return 1;
    }
    if (waiter && bus_add_waiter(ch, waiter) < 0) {
        if (ch->refs == 0 && ch->state == BUS_IDLE)
            bus_remove(b, ch);
        return -1;
    }
    ch->refs++;
    if (ch->state == BUS_IDLE && rconn_is_up(&b->sub))
        bus_send(b, ch, "SUBSCRIBE");
    return 0;
}

void bus_unref(struct bus *b, const char *channel) {
    struct bus_channel *ch = bus_find(b, channel);
    if (!ch || ch->refs == 0)
        return;
    if (--ch->refs > 0)
        return;
    if (ch->state == BUS_ACTIVE)
        bus_send(b, ch, "UNSUBSCRIBE");
    if (ch->state == BUS_IDLE)
        bus_remove(b, ch);
}

bool bus_ready(struct bus *b) {
    return rconn_is_up(&b->sub) && b->n_resync == 0 && b->heartbeat_ok;
}

static void bus_on_published(redisAsyncContext *ac, void *r, void *privdata) {
    (void)ac;
    (void)r;
    (void)privdata;
}

int bus_publish(struct bus *b, const char *channel, const char *buf, size_t len,
                redisCallbackFn *fn, void *privdata) {
    const char *argv[3] = {"PUBLISH", channel, buf};
    size_t lens[3] = {7, strlen(channel), len};
    if (rconn_command_argv(b->cmd, fn ? fn : bus_on_published, privdata, 3, argv, lens) < 0) {
        b->n_publish_failed++;
        return -1;
    }
    b->n_published++;
    return 0;
}

static void bus_free_node(void *node) {
    bus_channel_free(node);
}

void bus_stop(struct bus *b) {
    rconn_stop(&b->sub);
    tdestroy(b->channels, bus_free_node);
    b->channels = NULL;
}
