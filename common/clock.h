/*
 * clock: the two clocks signald reads. Monotonic milliseconds for timers,
 * rate limits and latencies; wall-clock milliseconds for JWT checks and the
 * chat timestamps clients see (ISO-8601, UTC, millisecond precision).
 */
#ifndef SIGNALD_CLOCK_H
#define SIGNALD_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_ISO8601_LEN 25 /* "2026-02-15T10:30:00.000Z" plus NUL */

uint64_t clock_mono_ms(void);
uint64_t clock_mono_us(void);
int64_t clock_real_ms(void);
int64_t clock_real_us(void);

/* Writes ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf, which
 * holds at least CLOCK_ISO8601_LEN bytes. */
void clock_iso8601(int64_t real_ms, char *buf);

#endif
