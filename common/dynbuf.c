/*
 * dynbuf: see dynbuf.h.
 */
#include "dynbuf.h"

#include <stdlib.h>
#include <string.h>

int dynbuf_append(struct dynbuf *b, const void *data, size_t n, size_t max) {
    if (n > max || b->len > max - n)
        return -1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        if (cap > max)
            cap = max;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

void dynbuf_reset(struct dynbuf *b, size_t keep) {
    b->len = 0;
    if (b->cap > keep)
        dynbuf_free(b);
}

void dynbuf_free(struct dynbuf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
