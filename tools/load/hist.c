/*
 * hist: see hist.h. Bucket layout: values below 2 * HIST_SUB are their own
 * bucket; above, a value whose top bit is b keeps its HIST_SUB_BITS + 1 top
 * bits, and the shift it took picks the octave.
 */
#include "hist.h"

#include <string.h>

void hist_init(struct hist *h) {
    memset(h, 0, sizeof(*h));
}

static unsigned hist_index(uint64_t v) {
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    unsigned top = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = top - HIST_SUB_BITS;
    if (shift >= HIST_OCTAVES)
        return HIST_BUCKETS - 1;
    return (shift + 1) * HIST_SUB + (unsigned)(v >> shift) - HIST_SUB;
}

/* The lowest value and the width of bucket i. */
static void hist_bucket(unsigned i, uint64_t *low, uint64_t *width) {
    if (i < 2 * HIST_SUB) {
        *low = i;
        *width = 1;
        return;
    }
    unsigned shift = i / HIST_SUB - 1;
    *low = (uint64_t)(i % HIST_SUB + HIST_SUB) << shift;
    *width = (uint64_t)1 << shift;
}

void hist_record(struct hist *h, uint64_t v) {
    h->counts[hist_index(v)]++;
    if (h->n == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->n++;
    h->sum += (double)v;
}

void hist_merge(struct hist *dst, const struct hist *src) {
    if (src->n == 0)
        return;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    if (dst->n == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->n += src->n;
    dst->sum += src->sum;
}

uint64_t hist_quantile(const struct hist *h, double q) {
    if (h->n == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    /* The rank of the value wanted, 1-based: the smallest value with at
     * least q of the samples at or below it. */
    uint64_t rank = (uint64_t)(q * (double)h->n);
    if ((double)rank < q * (double)h->n)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t low, width;
            hist_bucket(i, &low, &width);
            uint64_t v = low + width / 2;
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double hist_mean(const struct hist *h) {
    return h->n ? h->sum / (double)h->n : 0;
}
