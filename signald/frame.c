/*
 * frame: see frame.h.
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

struct frame *frame_alloc(size_t cap) {
    struct frame *f = malloc(sizeof(*f) + LWS_PRE + cap);
    if (!f)
        return NULL;
    f->refs = 1;
    f->len = cap;
    return f;
}

struct frame *frame_new(const char *buf, size_t len) {
    struct frame *f = frame_alloc(len);
    if (f)
        memcpy(frame_payload(f), buf, len);
    return f;
}

struct frame *frame_take(char *json, const size_t *len) {
    struct frame *f = json ? frame_new(json, *len) : NULL;
    free(json);
    return f;
}

void frame_ref(struct frame *f) {
    f->refs++;
}

void frame_unref(struct frame *f) {
    if (f && --f->refs == 0)
        free(f);
}
