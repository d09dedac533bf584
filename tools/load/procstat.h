/*
 * procstat: what the server processes cost. Reads a process's CPU time
 * (utime + stime from /proc/PID/stat), resident memory (VmRSS) and the
 * times its main thread went to sleep waiting (voluntary_ctxt_switches,
 * from /proc/PID/status: each is a wake-up to pay for), so that a scenario
 * can divide the difference between two samples by the work done. Also reads the load tool's own
 * CPU time, to show that it was not the bottleneck.
 */
#ifndef LOAD_PROCSTAT_H
#define LOAD_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCSTAT_MAX      16
#define PROCSTAT_NAME_MAX 32

/* A watched process: "node1", "redis", ... and its id. kind is "node" or
 * "redis" (from a "kind:pid" argument); "node" when not given. */
struct procstat_target {
    char name[PROCSTAT_NAME_MAX];
    char kind[PROCSTAT_NAME_MAX];
    pid_t pid;
};

struct procstat_sample {
    bool ok;
    uint64_t cpu_us; /* utime + stime */
    uint64_t rss_kb; /* VmRSS */
    uint64_t sleeps; /* voluntary context switches of the main thread */
};

/* Parses "name=pid" or "pid" (named pidN) into t; kind is the name with
 * its trailing digits removed ("node2" -> "node"). Returns 0 or -1. */
int procstat_parse(const char *arg, struct procstat_target *t);

/* Fills s from /proc; s->ok is false when the process cannot be read. */
void procstat_sample(pid_t pid, struct procstat_sample *s);

/* The calling process's user + system CPU time, in microseconds. */
uint64_t procstat_self_cpu_us(void);

/* CPU time the whole machine spent busy (user, nice, system, irq,
 * softirq, steal over all cores, from /proc/stat), in microseconds: with
 * the watched processes subtracted, what other programs took. */
uint64_t procstat_machine_busy_us(void);

/* The calling process's resident memory in KB, from /proc/self/status. */
uint64_t procstat_self_rss_kb(void);

#endif
