/*
 * frame: one outgoing text frame, built once and shared by every receiver
 * (a room broadcast is queued on several connections without a copy).
 * Reference counted; the payload sits after LWS_PRE bytes of headroom that
 * lws_write uses for the WebSocket header.
 */
#ifndef SIGNALD_FRAME_H
#define SIGNALD_FRAME_H

#include <stddef.h>

#include <libwebsockets.h>

struct frame {
    unsigned refs;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then len bytes */
};

/* A new frame with room for cap bytes of payload, unwritten, and one
 * reference; the writer sets len (at most cap). NULL on OOM. */
struct frame *frame_alloc(size_t cap);

/* Copies len bytes into a new frame with one reference. NULL on OOM. */
struct frame *frame_new(const char *buf, size_t len);

/* Takes a builder's malloc'd JSON text (freed here, also on failure). len
 * is read only after the builder has run: frame_take(proto_x(..., &n), &n). */
struct frame *frame_take(char *json, const size_t *len);

static inline unsigned char *frame_payload(struct frame *f) {
    return f->data + LWS_PRE;
}

void frame_ref(struct frame *f);
void frame_unref(struct frame *f); /* NULL is allowed */

#endif
