/*
 * signald-load: load generator and measuring tool for a signald cluster.
 * Runs one scenario against the node URLs given, prints a table and one
 * JSON line, and exits 1 if the scenario could not do its work (nobody
 * joined, nothing delivered), 2 on bad usage. Targets are not judged here:
 * the figures are reported and scripts/bench compares them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "load.h"

static void main_usage(FILE *out) {
    fprintf(out,
            "usage: signald-load SCENARIO [options] URL...\n"
            "\n"
            "SCENARIO: relay, chat, join, idle or ping. URL: ws://HOST:PORT of a node; clients\n"
            "are spread over the URLs round-robin. Tokens are signed with $JWT_SECRET.\n"
            "\n"
            "  -r, --rooms N         rooms (relay, chat: 250; ping: 1)\n"
            "  -p, --peers N         peers per room (4; ping: 1)\n"
            "  -R, --rate N          offered total rate: relay signals/s (10000),\n"
            "                        chat broadcasts/s (1000)\n"
            "  -d, --duration S      measured seconds (5)\n"
            "  -w, --warmup S        seconds of traffic before measuring (1)\n"
            "  -s, --size N          bytes per message sent (300)\n"
            "  -k, --inflight N      join: joins in flight (50); others: connects in flight (200)\n"
            "  -n, --connections N   idle: connections in all (1000)\n"
            "      --hold S          idle: seconds the connections are held (5)\n"
            "  -P, --pid NAME=PID    a server process to measure (repeat): names starting\n"
            "                        with node (node1, node2, in URL order) or redis\n"
            "  -j, --json FILE       also append the JSON line to FILE\n"
            "  -l, --label TEXT      a label for this run in the report\n"
            "      --part I/N        drive only the members whose index mod N is I, so that\n"
            "                        N processes (with the same --run-id) share one fleet:\n"
            "                        more connections than one process may open\n"
            "      --run-id ID       prefix of the room names (default: new for each run)\n"
            "  -h, --help\n");
}

/* Parses a positive number; -1 on anything else. */
static double main_number(const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    return errno || end == s || *end || v <= 0 ? -1 : v;
}

/* Parses "I/N" with I < N. */
static int main_part(const char *s, struct load_opts *o) {
    char *end;
    errno = 0;
    long i = strtol(s, &end, 10);
    if (errno || end == s || *end != '/')
        return -1;
    const char *rest = end + 1;
    long n = strtol(rest, &end, 10);
    if (errno || end == rest || *end || i < 0 || n < 1 || i >= n || n > 64)
        return -1;
    o->part = (uint32_t)i;
    o->parts = (uint32_t)n;
    return 0;
}

/* As many descriptors as the hard limit allows: thousands of sockets. */
static void main_raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        perror("signald-load: setrlimit(RLIMIT_NOFILE)");
}

static int main_options(struct load *ld, int argc, char **argv) {
    static const struct option longopts[] = {
        {"rooms", required_argument, NULL, 'r'},    {"peers", required_argument, NULL, 'p'},
        {"rate", required_argument, NULL, 'R'},     {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},   {"size", required_argument, NULL, 's'},
        {"inflight", required_argument, NULL, 'k'}, {"connections", required_argument, NULL, 'n'},
        {"hold", required_argument, NULL, 'H'},     {"pid", required_argument, NULL, 'P'},
        {"json", required_argument, NULL, 'j'},     {"label", required_argument, NULL, 'l'},
        {"part", required_argument, NULL, 'x'},     {"run-id", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    struct load_opts *o = &ld->opt;
    int ch;
    while ((ch = getopt_long(argc, argv, "r:p:R:d:w:s:k:n:P:j:l:h", longopts, NULL)) != -1) {
        bool numeric = optarg && strchr("rpRdwsknH", ch);
        double v = numeric ? main_number(optarg) : 0;
        if (numeric && v < 0 && !(ch == 'w' && strcmp(optarg, "0") == 0)) {
            fprintf(stderr, "signald-load: -%c wants a positive number, got '%s'\n", ch, optarg);
            return -1;
        }
        switch (ch) {
        case 'r':
            o->rooms = (int)v;
            break;
        case 'p':
            o->peers = (int)v;
            break;
        case 'R':
            o->rate = v;
            break;
        case 'd':
            o->duration_s = v;
            break;
        case 'w':
            o->warmup_s = v > 0 ? v : 0; /* zero warm-up is allowed */
            break;
        case 's':
            o->size = v > 0 ? (size_t)v : 0;
            break;
        case 'k':
            o->inflight = (int)v;
            break;
        case 'n':
            o->connections = (int)v;
            break;
        case 'H':
            o->hold_s = v;
            break;
        case 'P':
            if (ld->n_targets == PROCSTAT_MAX ||
                procstat_parse(optarg, &ld->targets[ld->n_targets]) < 0) {
                fprintf(stderr, "signald-load: bad --pid '%s' (want NAME=PID)\n", optarg);
                return -1;
            }
            ld->n_targets++;
            break;
        case 'j':
            o->json_path = optarg;
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'x':
            if (main_part(optarg, o) < 0) {
                fprintf(stderr, "signald-load: bad --part '%s' (want I/N, I < N)\n", optarg);
                return -1;
            }
            break;
        case 'i':
            o->run_id = optarg;
            break;
        case 'h':
            main_usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind >= argc)
        return -1;
    o->scenario = argv[optind++];
    bool ping = strcmp(o->scenario, "ping") == 0;
    if (strcmp(o->scenario, "relay") && strcmp(o->scenario, "chat") &&
        strcmp(o->scenario, "join") && strcmp(o->scenario, "idle") && !ping) {
        fprintf(stderr, "signald-load: unknown scenario '%s'\n", o->scenario);
        return -1;
    }
    for (; optind < argc; optind++)
        if (wsc_add_endpoint(&ld->wsc, argv[optind]) < 0) {
            fprintf(stderr, "signald-load: bad URL '%s' (want ws://HOST:PORT)\n", argv[optind]);
            return -1;
        }
    if (ld->wsc.n_ep == 0)
        return -1;
    if (o->rooms <= 0)
        o->rooms = ping ? 1 : 250;
    if (o->peers <= 0)
        o->peers = ping ? 1 : 4;
    if (o->rate <= 0)
        o->rate = strcmp(o->scenario, "chat") == 0 ? 1000 : 10000;
    if (o->duration_s <= 0)
        o->duration_s = 5;
    if (o->warmup_s < 0)
        o->warmup_s = 1;
    if (o->size == 0)
        o->size = 300;
    if (o->inflight <= 0)
        o->inflight = strcmp(o->scenario, "join") == 0 ? 50 : 200;
    if (o->connections <= 0)
        o->connections = 1000;
    if (o->hold_s <= 0)
        o->hold_s = 5;
    if (o->parts == 0)
        o->parts = 1;
    if (strcmp(o->scenario, "relay") == 0 && o->peers < 2) {
        fprintf(stderr, "signald-load: relay needs at least 2 peers per room\n");
        return -1;
    }
    o->secret = getenv("JWT_SECRET");
    if (!o->secret || !*o->secret) {
        fprintf(stderr, "signald-load: JWT_SECRET is not set\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    static struct load ld; /* large (histograms, buffers): not on the stack */
    ld.opt.warmup_s = -1;
    if (main_options(&ld, argc, argv) < 0) {
        main_usage(stderr);
        return 2;
    }
    main_raise_nofile();
    ld.rng = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ load_now_ns();
    if (!ld.rng)
        ld.rng = 1;
    /* Room names unique to this run: a leftover of an earlier run never
     * mixes with this one. */
    if (ld.opt.run_id)
        snprintf(ld.run_id, sizeof(ld.run_id), "%s", ld.opt.run_id);
    else
        snprintf(ld.run_id, sizeof(ld.run_id), "b%x%04x", (unsigned)getpid(),
                 (unsigned)(load_now_ns() / 1000000u) & 0xffffu);
    snprintf(ld.rep.scenario, sizeof(ld.rep.scenario), "%s", ld.opt.scenario);
    snprintf(ld.rep.label, sizeof(ld.rep.label), "%s", ld.opt.label ? ld.opt.label : "");
    snprintf(ld.rep.run_id, sizeof(ld.rep.run_id), "%s", ld.run_id);
    if (uv_loop_init(&ld.loop) != 0)
        return 1;

    const char *s = ld.opt.scenario;
    int rc = strcmp(s, "join") == 0   ? join_run(&ld)
             : strcmp(s, "idle") == 0 ? idle_run(&ld)
                                      : traffic_run(&ld);
    if (rc < 0)
        ld.failed = 1;

    report_print(&ld.rep, stdout);
    report_write_json(&ld.rep, stdout);
    if (ld.opt.json_path) {
        FILE *f = fopen(ld.opt.json_path, "a");
        if (!f || report_write_json(&ld.rep, f) < 0)
            fprintf(stderr, "signald-load: cannot write %s\n", ld.opt.json_path);
        if (f)
            fclose(f);
    }
    if (uv_loop_close(&ld.loop) != 0)
        fprintf(stderr, "signald-load: the loop still had handles at exit\n");
    return ld.failed ? 1 : 0;
}
