/*
 * log: one-line structured logging (key=value) for signald and its tools.
 *
 * Every line is "ts=... level=... node=... " followed by the caller's
 * key=value pairs. The level is checked before anything is formatted, so a
 * debug line costs one comparison when debug is off. Callers never pass
 * tokens or secrets; peer and room ids are safe to log.
 */
#ifndef SIGNALD_LOG_H
#define SIGNALD_LOG_H

#include <stdio.h>

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* The active threshold; read by the macros below. Set by log_init. */
extern enum log_level log_threshold;

/* Sets the threshold and the node tag added to every line (copied, may be
 * NULL). Lines go to stderr unless log_set_stream says otherwise. */
void log_init(enum log_level level, const char *node_id);
void log_set_stream(FILE *stream);

/* Parses "debug", "info", "warn"/"warning", "error" (any case).
 * Returns 0 and sets *out, or -1 for anything else. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/* Formats one line; use the macros, which skip formatting below threshold.
 * fmt holds the key=value tail, e.g. "event=join room=%s peer=%s". */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) >= log_threshold)                                                                \
            log_write((lvl), __VA_ARGS__);                                                         \
    } while (0)
#define log_debug(...) log_at(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_at(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
