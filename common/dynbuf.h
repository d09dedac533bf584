/*
 * dynbuf: a growable byte buffer with a maximum size fixed up front, for
 * reassembling messages that arrive in pieces. An append that would pass
 * the maximum fails and leaves the buffer as it was.
 */
#ifndef SIGNALD_DYNBUF_H
#define SIGNALD_DYNBUF_H

#include <stddef.h>

struct dynbuf {
    char *p;
    size_t len;
    size_t cap;
};

/* Appends n bytes. Returns 0, or -1 if len + n would pass max or on OOM
 * (the buffer is then unchanged). */
int dynbuf_append(struct dynbuf *b, const void *data, size_t n, size_t max);

/* Empties the buffer; frees its memory when it grew past keep bytes, so
 * that a rare large message does not pin its buffer. */
void dynbuf_reset(struct dynbuf *b, size_t keep);

void dynbuf_free(struct dynbuf *b);

#endif
