/*
 * hist: a log-bucketed latency histogram in the manner of HdrHistogram.
 * Values (nanoseconds here) land in one of 128 linear sub-buckets per
 * power of two, so any percentile is read back within 1% of the recorded
 * value while the whole table stays a fixed 36 KB array: recording is two
 * shifts and an increment, with no allocation on the hot path.
 */
#ifndef LOAD_HIST_H
#define LOAD_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS) /* sub-buckets in each octave */
#define HIST_OCTAVES  34                    /* covers values up to 2^41 */
#define HIST_BUCKETS  ((HIST_OCTAVES + 1) * HIST_SUB)

struct hist {
    uint64_t counts[HIST_BUCKETS];
    uint64_t n;
    uint64_t min;
    uint64_t max;
    double sum;
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);

/* Adds every value of src into dst. */
void hist_merge(struct hist *dst, const struct hist *src);

/* The value at quantile q (0..1): the midpoint of the bucket holding it,
 * clamped to the exact min and max. 0 when the histogram is empty. */
uint64_t hist_quantile(const struct hist *h, double q);
double hist_mean(const struct hist *h);

#endif
