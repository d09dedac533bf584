/*
 * procstat: see procstat.h. /proc/PID/stat counts CPU time in clock ticks
 * (usually 10 ms), so a scenario must run long enough, or do enough work,
 * for that resolution to be small against what it measures.
 */
#include "procstat.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int procstat_parse(const char *arg, struct procstat_target *t) {
    const char *eq = strchr(arg, '=');
    const char *num = eq ? eq + 1 : arg;
    char *end;
    errno = 0;
    long pid = strtol(num, &end, 10);
    if (errno || end == num || *end || pid <= 0)
        return -1;
    memset(t, 0, sizeof(*t));
    t->pid = (pid_t)pid;
    if (eq) {
        size_t n = (size_t)(eq - arg);
        if (n == 0 || n >= sizeof(t->name))
            return -1;
        memcpy(t->name, arg, n);
    } else {
        snprintf(t->name, sizeof(t->name), "pid%ld", pid);
    }
    size_t k = strlen(t->name);
    while (k > 1 && isdigit((unsigned char)t->name[k - 1]))
        k--;
    memcpy(t->kind, t->name, k);
    t->kind[k] = '\0';
    return 0;
}

/* utime and stime are fields 14 and 15; the command name (field 2) may
 * hold spaces and parentheses, so counting starts after its last ')'. */
static int procstat_read_cpu(pid_t pid, uint64_t *cpu_us) {
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* After ')' come field 3 (state) onwards; utime is the 12th of them. */
    unsigned long long v[2] = {0, 0};
    int field = 2;
    for (char *tok = p + 1; *tok && field < 15;) {
        while (*tok == ' ')
            tok++;
        field++;
        if (field == 14 || field == 15)
            v[field - 14] = strtoull(tok, NULL, 10);
        while (*tok && *tok != ' ')
            tok++;
    }
    if (field < 15)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    *cpu_us = (uint64_t)((v[0] + v[1]) * 1000000ull / (unsigned long long)(hz > 0 ? hz : 100));
    return 0;
}

/* VmRSS and, when sleeps is not NULL, voluntary_ctxt_switches. */
static int procstat_read_status(const char *path, uint64_t *rss_kb, uint64_t *sleeps) {
    char line[256];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int rc = -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            *rss_kb = strtoull(line + 6, NULL, 10);
            rc = 0;
            if (!sleeps)
                break;
        } else if (sleeps && strncmp(line, "voluntary_ctxt_switches:", 24) == 0) {
            *sleeps = strtoull(line + 24, NULL, 10);
        }
    }
    fclose(f);
    return rc;
}

void procstat_sample(pid_t pid, struct procstat_sample *s) {
    char path[64];
    memset(s, 0, sizeof(*s));
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    s->ok = procstat_read_cpu(pid, &s->cpu_us) == 0 &&
            procstat_read_status(path, &s->rss_kb, &s->sleeps) == 0;
}

uint64_t procstat_self_cpu_us(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
           (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

uint64_t procstat_self_rss_kb(void) {
    uint64_t kb = 0;
    procstat_read_status("/proc/self/status", &kb, NULL);
    return kb;
}

uint64_t procstat_machine_busy_us(void) {
    char line[512];
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    char *ok = fgets(line, sizeof(line), f);
    fclose(f);
    if (!ok || strncmp(line, "cpu ", 4) != 0)
        return 0;
    /* user nice system idle iowait irq softirq steal ... */
    unsigned long long v[8] = {0};
    char *p = line + 4;
    for (int i = 0; i < 8; i++)
        v[i] = strtoull(p, &p, 10);
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    long hz = sysconf(_SC_CLK_TCK);
    return (uint64_t)(busy * 1000000ull / (unsigned long long)(hz > 0 ? hz : 100));
}
