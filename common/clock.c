/*
 * clock: see clock.h.
 */
#include "clock.h"

#include <stdio.h>
#include <time.h>

uint64_t clock_mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t clock_mono_ms(void) {
    return clock_mono_us() / 1000u;
}

int64_t clock_real_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_real_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_iso8601(int64_t real_ms, char *buf) {
    time_t secs = (time_t)(real_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, CLOCK_ISO8601_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, CLOCK_ISO8601_LEN - n, ".%03uZ", (unsigned)(real_ms % 1000) % 1000u);
}
