/*
 * floor: what signald-floor's scenarios share: the options, the processes
 * under measurement (the hub, then the forwarders) and the window over
 * which their CPU time is read.
 */
#ifndef FLOOR_FLOOR_H
#define FLOOR_FLOOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../load/hist.h"
#include "../load/procstat.h"
#include "../load/report.h"

#define FLOOR_FWDS        2 /* forwarders (nodes); client i uses forwarder i % 2 */
#define FLOOR_PROCS       (1 + FLOOR_FWDS)
#define JOIN_MAX_INFLIGHT 1024 /* join: visits in flight, at most */

struct floor_opts {
    const char *scenario; /* "relay" or "join" */
    uint32_t rooms, peers;
    uint32_t inflight; /* join: visits in flight */
    double rate;       /* relay: messages per second, in all */
    double duration_s, warmup_s;
    const char *json_path, *label;
};

/* CPU and wake-ups of the servers and the driver at one moment. */
struct floor_sample {
    uint64_t at_ns, self_us, machine_us;
    struct procstat_sample proc[FLOOR_PROCS];
};

/* The hub, then the forwarders. */
extern pid_t floor_pids[FLOOR_PROCS];

void floor_sample(struct floor_sample *s);

/* Adds the CPU figures of the window [a, b] for `units` units of work
 * (messages delivered, joins) to r. */
void floor_report_cpu(struct report *r, const struct floor_sample *a, const struct floor_sample *b,
                      double units);

void floor_report_latency(struct report *r, const struct hist *h);

/* Starts the hub in its own process (floor_pids[0]) with one loopback TCP
 * link per forwarder; the forwarders' ends are returned in fwd_ends (the
 * caller closes them once the forwarders have forked). */
void floor_start_hub(bool answer, int fwd_ends[FLOOR_FWDS]);

/* Stops the hub and the forwarders, by PID. */
void floor_stop(void);

/* The hub: Redis' place, minus Redis. With two links (one per forwarder),
 * relay mode passes each message to the other link, join mode answers it
 * on the link it came from. Runs in its own process, never returns. */
void hub_run(int link_fds[FLOOR_FWDS], bool answer);

/* The scenarios: start the processes, drive them, fill r. Return 0, or 1
 * when nothing could be measured. */
int relay_run(const struct floor_opts *o, struct report *r);
int join_run(const struct floor_opts *o, struct report *r);

#endif
