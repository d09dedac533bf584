/*
 * bus: the Redis pub/sub side of the cluster. A node subscribes only to the
 * channels of its own members (one per room, one per member), counted with
 * references so that the last leave unsubscribes. Joins wait for their
 * channels to be confirmed before they touch the room, since a message
 * published before SUBSCRIBE is confirmed is lost. The subscriber link is
 * proved alive by a heartbeat the node publishes to itself every second;
 * when the link is lost, every channel is subscribed again on reconnect.
 */
#ifndef SIGNALD_BUS_H
#define SIGNALD_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rconn.h"

/* A message arrived on channel (both borrowed for the call). */
typedef void (*bus_message_cb)(const char *channel, const char *buf, size_t len, void *data);

/* The channels a waiter (a connection id) asked for with bus_ref are
 * confirmed (ok) or cannot be (the subscriber link went down). Called once
 * per bus_ref that returned 0. */
typedef void (*bus_confirm_cb)(uint64_t waiter, bool ok, void *data);

struct bus {
    struct rconn sub;  /* the subscriber link, owned */
    struct rconn *cmd; /* the command link PUBLISH goes through, borrowed */
    void *channels;    /* tsearch tree of struct bus_channel */
    char heartbeat[128];
    bool heartbeat_ok; /* the heartbeat channel is confirmed on the current link */
    size_t n_resync;   /* channels subscribed again after a reconnect, unconfirmed */
    uint64_t heartbeat_at_ms;
    bus_message_cb on_message;
    bus_confirm_cb on_confirm;
    void *data;
    uint64_t n_published;
    uint64_t n_publish_failed;
};

/* Starts the subscriber link (sub's connection fields must be set by the
 * caller) and subscribes to the node's heartbeat channel. Returns 0. */
int bus_start(struct bus *b, const char *heartbeat_channel);

void bus_tick(struct bus *b, uint64_t now_ms);

/* Takes a reference on channel for waiter. Returns 1 if the channel is
 * already confirmed (no callback), 0 if on_confirm(waiter, ...) will follow,
 * -1 on out of memory (no reference taken). */
int bus_ref(struct bus *b, const char *channel, uint64_t waiter);

/* Drops a reference; the last one unsubscribes. */
void bus_unref(struct bus *b, const char *channel);

/* True while the subscriber link is up, its heartbeat channel confirmed,
 * and every channel it had to subscribe again after a reconnect confirmed.
 * Channels subscribed for new joins do not count: a join waits for its own. */
bool bus_ready(struct bus *b);

/* PUBLISHes buf on channel through the command link. fn (may be NULL) gets
 * the reply (an integer: receivers) or NULL. Returns 0, or -1 when the link
 * is down (fn is then never called). */
int bus_publish(struct bus *b, const char *channel, const char *buf, size_t len,
                redisCallbackFn *fn, void *privdata);

/* Unsubscribes everything and stops the subscriber link. */
void bus_stop(struct bus *b);

#endif
