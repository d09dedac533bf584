/*
 * signald-floor: what signald's architecture costs on this machine when
 * the servers do no work at all, so that the figures of scripts/bench can
 * be read against a floor rather than a guess.
 *
 * Two bare epoll forwarders stand in for the nodes and a bare hub for
 * Redis; the driver (this process) plays the clients. The messages take
 * signald's paths (relay.c, join.c) over one loopback TCP socket per
 * client, but nothing is parsed beyond a fixed-size header and nothing is
 * framed: what signald adds (WebSocket, JSON, tokens, Redis' commands and
 * scripts) is left out. The forwarders' and the hub's CPU time is read
 * from /proc like signald-load reads the nodes' and Redis'.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../load/hist.h"
#include "floor.h"
#include "link.h"

pid_t floor_pids[FLOOR_PROCS];

void floor_sample(struct floor_sample *s) {
    for (int i = 0; i < FLOOR_PROCS; i++)
        procstat_sample(floor_pids[i], &s->proc[i]);
    s->self_us = procstat_self_cpu_us();
    s->machine_us = procstat_machine_busy_us();
    s->at_ns = floor_now_ns();
}

void floor_report_latency(struct report *r, const struct hist *h) {
    static const struct {
        const char *key, *label;
        double q;
    } qs[] = {{"lat_p50_ms", "latency p50", 0.5},
              {"lat_p90_ms", "latency p90", 0.9},
              {"lat_p99_ms", "latency p99", 0.99},
              {"lat_p999_ms", "latency p99.9", 0.999},
              {"lat_max_ms", "latency max", 1.0}};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        report_add(r, qs[i].key, qs[i].label, (double)hist_quantile(h, qs[i].q) / 1e6, "ms", 3);
}

void floor_report_cpu(struct report *r, const struct floor_sample *a, const struct floor_sample *b,
                      double units) {
    double win_us = (double)(b->at_ns - a->at_ns) / 1e3;
    double hub = 0, fwds = 0, sleeps = 0;
    bool ok = true;
    for (int i = 0; i < FLOOR_PROCS; i++) {
        double cpu = (double)(b->proc[i].cpu_us - a->proc[i].cpu_us);
        ok = ok && a->proc[i].ok && b->proc[i].ok;
        if (i == 0) {
            hub = cpu;
        } else {
            fwds += cpu;
            sleeps += (double)(b->proc[i].sleeps - a->proc[i].sleeps);
        }
    }
    double self = (double)(b->self_us - a->self_us);
    double others = (double)(b->machine_us - a->machine_us) - self - hub - fwds;
    report_add(r, "window_s", "measured window", win_us / 1e6, "s", 2);
    if (ok && units > 0) {
        report_add(r, "cpu_us_per_op_nodes", "CPU per op, forwarders", fwds / units, "us", 2);
        report_add(r, "cpu_us_per_op_redis", "CPU per op, hub", hub / units, "us", 2);
        report_add(r, "cpu_us_per_op_total", "CPU per op, forwarders + hub", (fwds + hub) / units,
                   "us", 2);
        report_add(r, "wakeups_per_op_nodes", "wake-ups per op, forwarders", sleeps / units, "", 2);
        report_add(r, "cpu_us_per_op_tool", "CPU per op, driver", self / units, "us", 2);
    }
    report_add(r, "cpu_pct_tool", "CPU driver", 100 * self / win_us, "% of a core", 1);
    report_add(r, "cpu_pct_others", "CPU other programs", others > 0 ? 100 * others / win_us : 0,
               "% of a core", 1);
}

struct floor_hub_args {
    int ends[FLOOR_FWDS];
    bool answer;
};

static void floor_hub_main(void *arg) {
    struct floor_hub_args *a = arg;
    hub_run(a->ends, a->answer);
}

void floor_start_hub(bool answer, int fwd_ends[FLOOR_FWDS]) {
    struct sockaddr_in addr;
    struct floor_hub_args a = {.answer = answer};
    int lfd = floor_listen(&addr);
    for (int k = 0; k < FLOOR_FWDS; k++)
        floor_pair(lfd, &addr, &fwd_ends[k], &a.ends[k]);
    close(lfd);
    floor_pids[0] = floor_spawn(floor_hub_main, &a);
    for (int k = 0; k < FLOOR_FWDS; k++)
        close(a.ends[k]);
}

void floor_stop(void) {
    for (int i = 0; i < FLOOR_PROCS; i++) {
        if (floor_pids[i] > 0) {
            kill(floor_pids[i], SIGTERM);
            waitpid(floor_pids[i], NULL, 0);
            floor_pids[i] = 0;
        }
    }
}

static void floor_usage(FILE *out) {
    fprintf(out,
            "usage: signald-floor SCENARIO [options]\n\n"
            "Runs signald's paths through two bare epoll forwarders and a bare hub (no\n"
            "work done on the way) and reports latency and the CPU they spent per unit.\n\n"
            "SCENARIO: relay (directed messages between room-mates, per delivered\n"
            "message) or join (connect, one round trip through the hub, close, and the\n"
            "leave, per visit).\n\n"
            "  -r, --rooms N       relay: rooms (250)\n"
            "  -p, --peers N       relay: peers per room (4)\n"
            "  -R, --rate N        relay: messages per second, in all (10000)\n"
            "  -k, --inflight N    join: visits in flight (50; at most %d)\n"
            "  -d, --duration S    measured seconds (5)\n"
            "  -w, --warmup S      seconds of traffic before measuring (1)\n"
            "  -s, --size N        bytes per message (300; %d to %d)\n"
            "  -j, --json FILE     also append the JSON line to FILE\n"
            "  -l, --label TEXT    a label for this run in the report\n"
            "  -h, --help\n\n"
            "Exit status: 0 when the run measured something and lost nothing.\n",
            JOIN_MAX_INFLIGHT, FLOOR_HDR, FLOOR_MAX_SIZE);
}

static int floor_parse(int argc, char **argv, struct floor_opts *o) {
    static const struct option longs[] = {{"rooms", required_argument, NULL, 'r'},
                                          {"peers", required_argument, NULL, 'p'},
                                          {"rate", required_argument, NULL, 'R'},
                                          {"inflight", required_argument, NULL, 'k'},
                                          {"duration", required_argument, NULL, 'd'},
                                          {"warmup", required_argument, NULL, 'w'},
                                          {"size", required_argument, NULL, 's'},
                                          {"json", required_argument, NULL, 'j'},
                                          {"label", required_argument, NULL, 'l'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    *o = (struct floor_opts){
        .rooms = 250, .peers = 4, .inflight = 50, .rate = 10000, .duration_s = 5, .warmup_s = 1};
    int c;
    while ((c = getopt_long(argc, argv, "r:p:R:k:d:w:s:j:l:h", longs, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->rooms = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'p':
            o->peers = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'R':
            o->rate = strtod(optarg, NULL);
            break;
        case 'k':
            o->inflight = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'd':
            o->duration_s = strtod(optarg, NULL);
            break;
        case 'w':
            o->warmup_s = strtod(optarg, NULL);
            break;
        case 's':
            floor_size = strtoul(optarg, NULL, 10);
            break;
        case 'j':
            o->json_path = optarg;
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'h':
            floor_usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind + 1 != argc)
        return -1;
    o->scenario = argv[optind];
    bool known = strcmp(o->scenario, "relay") == 0 || strcmp(o->scenario, "join") == 0;
    if (!known || o->rooms < 1 || o->rooms > 100000 || o->peers < 2 || o->peers > 1000 ||
        o->inflight < 1 || o->inflight > JOIN_MAX_INFLIGHT || !(o->rate > 0) ||
        !(o->duration_s > 0) || !(o->warmup_s >= 0) || floor_size < FLOOR_HDR ||
        floor_size > FLOOR_MAX_SIZE)
        return -1;
    return 0;
}

int main(int argc, char **argv) {
    struct floor_opts o;
    if (floor_parse(argc, argv, &o) < 0) {
        floor_usage(stderr);
        return 2;
    }
    /* The driver holds both ends of every client connection until the
     * forwarders have forked. */
    struct rlimit rl;
    rlim_t need = 2 * (rlim_t)o.rooms * o.peers + 2 * JOIN_MAX_INFLIGHT + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);

    struct report r;
    memset(&r, 0, sizeof(r));
    snprintf(r.scenario, sizeof(r.scenario), "floor-%s", o.scenario);
    if (o.label)
        snprintf(r.label, sizeof(r.label), "%s", o.label);
    int rc = strcmp(o.scenario, "relay") == 0 ? relay_run(&o, &r) : join_run(&o, &r);
    report_print(&r, stdout);
    report_write_json(&r, stdout);
    if (o.json_path) {
        FILE *f = fopen(o.json_path, "a");
        if (!f || report_write_json(&r, f) < 0) {
            perror("signald-floor: json");
            rc = 1;
        }
        if (f)
            fclose(f);
    }
    return rc;
}
