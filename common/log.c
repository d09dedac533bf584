/*
 * log: see log.h. One static sink and threshold; nothing here allocates.
 */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

enum log_level log_threshold = LOG_LEVEL_INFO;

static FILE *log_stream;
static char log_node[64];

static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_level level, const char *node_id) {
    log_threshold = level;
    snprintf(log_node, sizeof(log_node), "%s", node_id ? node_id : "");
}

void log_set_stream(FILE *stream) {
    log_stream = stream;
}

int log_level_parse(const char *s, enum log_level *out) {
    if (!s)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = LOG_LEVEL_WARN;
        return 0;
    }
    return -1;
}

const char *log_level_name(enum log_level level) {
    return (unsigned)level < 4 ? log_names[level] : "unknown";
}

void log_write(enum log_level level, const char *fmt, ...) {
    char line[1024];
    struct timeval tv;
    struct tm tm;
    size_t n;
    va_list ap;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ level=%s", (int)(tv.tv_usec / 1000),
                          log_level_name(level));
    if (log_node[0] && n < sizeof(line))
        n += (size_t)snprintf(line + n, sizeof(line) - n, " node=%s", log_node);
    if (n < sizeof(line) - 1) {
        line[n++] = ' ';
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        va_end(ap);
    }
    line[sizeof(line) - 1] = '\0';
    fprintf(log_stream ? log_stream : stderr, "%s\n", line);
}
