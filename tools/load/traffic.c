/*
 * traffic: the scenarios that measure messages end to end.
 *
 *   relay  directed ice_candidate signals to a random room-mate at a fixed
 *          offered total rate (open loop: the schedule does not wait for
 *          deliveries, so a slow server shows as latency, not as a lower
 *          rate);
 *   chat   room broadcasts at a fixed rate, each counted once per receiver
 *          (the sender included);
 *   ping   one ping at a time per connection (closed loop): the round trip
 *          through one node, the floor under every other latency.
 *
 * Each frame carries its send time t (monotonic ns, stamped when it is
 * written to the socket) and the sender's sequence number n. A frame is
 * measured when it was written inside the window; the window is followed
 * by a drain that waits for the stragglers, and what never arrives is
 * lost. The scheduled time is kept too: the gap between it and the write
 * (send lag) shows whether the tool kept up with its own schedule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "hist.h"
#include "load.h"
#include "msg.h"

#define TRAFFIC_TICK_MS     1
#define TRAFFIC_QUEUE       32 /* scheduled sends one member may have waiting */
#define TRAFFIC_DRAIN_MS    3000
#define TRAFFIC_PEER_ID_MAX 24

enum traffic_kind { TRAFFIC_RELAY, TRAFFIC_CHAT, TRAFFIC_PING };
enum traffic_phase { TRAFFIC_SETUP, TRAFFIC_WARMUP, TRAFFIC_MEASURE, TRAFFIC_DRAIN, TRAFFIC_DONE };

/* Per member: what it has to send and what it last got from each mate. */
struct traffic_peer {
    uint64_t next_n;
    uint64_t sched[TRAFFIC_QUEUE]; /* ring of scheduled send times */
    uint32_t q_head, q_len;
    uint64_t *last_n; /* per room slot: last n received from it, plus 1 (0: none yet) */
};

struct traffic {
    struct load *ld;
    struct fleet fl;
    enum traffic_kind kind;
    enum traffic_phase phase;
    struct traffic_peer *tp;
    uint64_t *last_n_all; /* backing store of every tp->last_n */
    uint32_t *room_joined;
    uint64_t t0, m_start, m_end, drain_until;
    uint64_t scheduled; /* sends scheduled since t0 */
    uint64_t sent, expected, delivered, cross;
    uint64_t out_of_order, duplicates, malformed, rate_limited, errors, overflow, unsendable;
    struct hist lat, lag;
    uv_timer_t tick;
};

/* ---- Sending ---- */

/* By time alone, never by phase: the phase changes on a timer tick, which
 * may come late, and a frame must count the same way when it is written
 * and when it arrives. m_start and m_end are 0 until traffic starts. */
static bool traffic_in_window(const struct traffic *tr, uint64_t t) {
    return t >= tr->m_start && t < tr->m_end;
}

/* A random joined room-mate of m other than m; NULL if it has none. */
static struct fleet_member *traffic_pick_target(struct traffic *tr, struct fleet_member *m) {
    struct fleet *fl = &tr->fl;
    uint32_t peers = fl->peers;
    if (peers < 2)
        return NULL;
    uint32_t s = (uint32_t)(load_rand(tr->ld) % (peers - 1));
    if (s >= m->slot)
        s++;
    struct fleet_member *base = &fl->m[m->room * peers];
    for (uint32_t i = 0; i < peers; i++) {
        struct fleet_member *t = &base[(s + i) % peers];
        if (t != m && t->joined && t->conn.state == WSC_OPEN)
            return t;
    }
    return NULL;
}

static void traffic_schedule(struct traffic *tr, struct fleet_member *m, uint64_t at) {
    struct traffic_peer *tp = &tr->tp[m->index];
    if (tp->q_len == TRAFFIC_QUEUE) {
        tr->overflow++;
        return;
    }
    tp->sched[(tp->q_head + tp->q_len++) % TRAFFIC_QUEUE] = at;
    wsc_want_write(&m->conn);
}

static size_t traffic_on_writable(struct fleet *fl, struct fleet_member *m, char *buf, size_t cap) {
    struct traffic *tr = fl->data;
    struct traffic_peer *tp = &tr->tp[m->index];
    char target_id[TRAFFIC_PEER_ID_MAX];
    size_t len = 0, size = tr->ld->opt.size;
    uint64_t expect = 1;
    bool cross = false;
    if (tp->q_len == 0)
        return 0;
    uint64_t sched = tp->sched[tp->q_head];
    tp->q_head = (tp->q_head + 1) % TRAFFIC_QUEUE;
    tp->q_len--;
    uint64_t now = load_now_ns();
    switch (tr->kind) {
    case TRAFFIC_RELAY: {
        struct fleet_member *t = traffic_pick_target(tr, m);
        if (!t) {
            tr->unsendable++;
            break;
        }
        snprintf(target_id, sizeof(target_id), "p%u", t->index);
        cross = t->conn.ep != m->conn.ep;
        len = msg_relay(buf, cap, target_id, now, tp->next_n++, size);
        break;
    }
    case TRAFFIC_CHAT:
        expect = tr->room_joined[m->room];
        len = msg_chat(buf, cap, now, tp->next_n++, size);
        break;
    case TRAFFIC_PING:
        len = msg_ping(buf, cap, now);
        break;
    }
    if (len && traffic_in_window(tr, now)) {
        tr->sent++;
        tr->expected += expect;
        tr->cross += cross;
        hist_record(&tr->lag, now - sched);
    }
    if (tp->q_len)
        wsc_want_write(&m->conn);
    return len;
}

/* Offers the sends due by now (open loop, relay and chat). */
static void traffic_offer(struct traffic *tr, uint64_t now) {
    struct fleet *fl = &tr->fl;
    double rate = tr->ld->opt.rate;
    uint64_t due = (uint64_t)((double)(now - tr->t0) * rate / 1e9);
    while (tr->scheduled < due) {
        uint64_t at = tr->t0 + (uint64_t)((double)tr->scheduled * 1e9 / rate);
        tr->scheduled++;
        struct fleet_member *m = NULL;
        for (int tries = 0; tries < 8 && !m; tries++) {
            struct fleet_member *c = &fl->m[load_rand(tr->ld) % fl->n];
            if (c->joined && c->conn.state == WSC_OPEN)
                m = c;
        }
        if (m)
            traffic_schedule(tr, m, at);
        else
            tr->unsendable++;
    }
}

/* ---- Receiving ---- */

/* The member a from_peer names ("p123"), if it is in m's room. */
static struct fleet_member *traffic_sender(struct traffic *tr, struct fleet_member *m,
                                           const char *buf, size_t len) {
    const char *from;
    int n = msg_str(buf, len, "from_peer", &from);
    if (n < 2 || from[0] != 'p')
        return NULL;
    uint32_t idx = 0;
    for (int i = 1; i < n; i++) {
        if (from[i] < '0' || from[i] > '9' || idx > tr->fl.n)
            return NULL;
        idx = idx * 10 + (uint32_t)(from[i] - '0');
    }
    if (idx >= tr->fl.n || tr->fl.m[idx].room != m->room)
        return NULL;
    return &tr->fl.m[idx];
}

static void traffic_delivered(struct traffic *tr, struct fleet_member *m, struct fleet_member *from,
                              uint64_t t, uint64_t n) {
    uint64_t now = load_now_ns();
    uint64_t *last = &tr->tp[m->index].last_n[from->slot];
    if (n + 1 < *last)
        tr->out_of_order++;
    else if (n + 1 == *last)
        tr->duplicates++;
    else
        *last = n + 1;
    if (traffic_in_window(tr, t)) {
        tr->delivered++;
        hist_record(&tr->lat, now > t ? now - t : 0);
    }
}

static void traffic_error(struct traffic *tr, const char *buf, size_t len) {
    const char *code;
    int n = msg_str(buf, len, "code", &code);
    if (n == 12 && memcmp(code, "rate_limited", 12) == 0)
        tr->rate_limited++;
    else
        tr->errors++;
    struct report *r = &tr->ld->rep;
    if (!r->note[0])
        snprintf(r->note, sizeof(r->note), "first error frame: %.*s", (int)(len > 120 ? 120 : len),
                 buf);
}

static void traffic_on_message(struct fleet *fl, struct fleet_member *m, enum msg_type type,
                               const char *buf, size_t len) {
    struct traffic *tr = fl->data;
    switch (type) {
    case MSG_ICE_CANDIDATE:
    case MSG_CHAT: {
        struct fleet_member *from = traffic_sender(tr, m, buf, len);
        int64_t t = -1, n = -1;
        uint64_t ut, un;
        if (type == MSG_ICE_CANDIDATE) {
            t = msg_int(buf, len, "t");
            n = msg_int(buf, len, "n");
            /* The relay must drop target and keep everything else. */
            if (msg_has(buf, len, "target"))
                tr->malformed++;
        } else if (msg_chat_stamp(buf, len, &ut, &un) == 0) {
            t = (int64_t)ut;
            n = (int64_t)un;
        }
        if (!from || t < 0 || n < 0) {
            tr->malformed++;
            return;
        }
        traffic_delivered(tr, m, from, (uint64_t)t, (uint64_t)n);
        return;
    }
    case MSG_PONG: {
        int64_t t = msg_int(buf, len, "ts");
        if (t < 0) {
            tr->malformed++;
            return;
        }
        uint64_t now = load_now_ns();
        if (traffic_in_window(tr, (uint64_t)t)) {
            tr->delivered++;
            hist_record(&tr->lat, now - (uint64_t)t);
        }
        /* Closed loop: the next ping goes as soon as the pong is in. */
        if (tr->phase == TRAFFIC_WARMUP || tr->phase == TRAFFIC_MEASURE)
            traffic_schedule(tr, m, now);
        return;
    }
    case MSG_ERROR:
        traffic_error(tr, buf, len);
        return;
    default:
        return;
    }
}

/* ---- Phases ---- */

static void traffic_report(struct traffic *tr);

static void traffic_on_tick(uv_timer_t *t) {
    struct traffic *tr = t->data;
    struct load *ld = tr->ld;
    uint64_t now = load_now_ns();
    if (tr->phase == TRAFFIC_WARMUP && now >= tr->m_start) {
        load_window_begin(ld);
        tr->phase = TRAFFIC_MEASURE;
    }
    if (tr->phase == TRAFFIC_MEASURE && now >= tr->m_end) {
        tr->phase = TRAFFIC_DRAIN;
        tr->drain_until = now + (uint64_t)TRAFFIC_DRAIN_MS * 1000000u;
    }
    if (tr->phase == TRAFFIC_WARMUP || tr->phase == TRAFFIC_MEASURE) {
        if (tr->kind != TRAFFIC_PING)
            traffic_offer(tr, now);
        return;
    }
    if (tr->phase == TRAFFIC_DRAIN && (tr->delivered >= tr->expected || now >= tr->drain_until)) {
        load_window_end(ld);
        tr->phase = TRAFFIC_DONE;
        uv_timer_stop(&tr->tick);
        traffic_report(tr);
        fleet_close_all(&tr->fl);
    }
}

static void traffic_on_ready(struct fleet *fl) {
    struct traffic *tr = fl->data;
    struct load *ld = tr->ld;
    if (fl->n_joined == 0) {
        fprintf(stderr, "signald-load: no client could join (%s)\n",
                ld->wsc.last_error[0] ? ld->wsc.last_error : "no error text");
        ld->failed = 1;
        fleet_close_all(fl);
        return;
    }
    for (uint32_t i = 0; i < fl->n; i++)
        tr->room_joined[fl->m[i].room] += fl->m[i].joined;
    tr->t0 = load_now_ns();
    tr->m_start = tr->t0 + (uint64_t)(ld->opt.warmup_s * 1e9);
    tr->m_end = tr->m_start + (uint64_t)(ld->opt.duration_s * 1e9);
    tr->phase = TRAFFIC_WARMUP;
    if (tr->kind == TRAFFIC_PING)
        for (uint32_t i = 0; i < fl->n; i++)
            if (fl->m[i].joined)
                traffic_schedule(tr, &fl->m[i], tr->t0);
    uv_timer_start(&tr->tick, traffic_on_tick, TRAFFIC_TICK_MS, TRAFFIC_TICK_MS);
}

static void traffic_on_all_closed(struct fleet *fl) {
    struct traffic *tr = fl->data;
    uv_stop(&tr->ld->loop);
}

static const struct fleet_hooks traffic_hooks = {
    .on_ready = traffic_on_ready,
    .on_message = traffic_on_message,
    .on_writable = traffic_on_writable,
    .on_all_closed = traffic_on_all_closed,
};

/* ---- Report ---- */

static void traffic_report_latency(struct report *r, const struct hist *h) {
    report_add(r, "lat_p50_ms", "latency p50", (double)hist_quantile(h, 0.50) / 1e6, "ms", 3);
    report_add(r, "lat_p90_ms", "latency p90", (double)hist_quantile(h, 0.90) / 1e6, "ms", 3);
    report_add(r, "lat_p99_ms", "latency p99", (double)hist_quantile(h, 0.99) / 1e6, "ms", 3);
    report_add(r, "lat_p999_ms", "latency p99.9", (double)hist_quantile(h, 0.999) / 1e6, "ms", 3);
    report_add(r, "lat_max_ms", "latency max", (double)h->max / 1e6, "ms", 3);
    report_add(r, "lat_mean_ms", "latency mean", hist_mean(h) / 1e6, "ms", 3);
}

static void traffic_report(struct traffic *tr) {
    struct load *ld = tr->ld;
    struct report *r = &ld->rep;
    struct fleet *fl = &tr->fl;
    double secs = ld->opt.duration_s;
    report_add(r, "nodes", "nodes", ld->wsc.n_ep, "", 0);
    report_add(r, "rooms", "rooms", fl->rooms, "", 0);
    report_add(r, "peers", "peers per room", fl->peers, "", 0);
    report_add(r, "connections", "connections joined", fl->n_joined, "", 0);
    report_add(r, "connect_failed", "connections failed", fl->n_failed, "", 0);
    report_add(r, "missed_peer_joined", "members not told of a room-mate", fl->n_unsettled, "", 0);
    report_add(r, "setup_s", "setup (connect, join, settle)",
               (double)(fl->ready_ns - fl->started_ns) / 1e9, "s", 2);
    if (tr->kind != TRAFFIC_PING) {
        report_add(r, "rate_offered", "offered rate", ld->opt.rate, "msg/s", 0);
        report_add(r, "rate_sent", "sent rate", (double)tr->sent / secs, "msg/s", 0);
    }
    if (tr->kind == TRAFFIC_CHAT)
        report_add(r, "rate_delivered", "delivered rate (per receiver)",
                   (double)tr->delivered / secs, "msg/s", 0);
    else
        report_add(r, "rate_delivered", "delivered rate", (double)tr->delivered / secs, "msg/s", 0);
    report_add(r, "sent", "sent (in window)", (double)tr->sent, "", 0);
    report_add(r, "expected", "expected deliveries", (double)tr->expected, "", 0);
    report_add(r, "delivered", "delivered", (double)tr->delivered, "", 0);
    report_add(r, "lost", "lost", tr->expected > tr->delivered ? tr->expected - tr->delivered : 0,
               "", 0);
    report_add(r, "out_of_order", "out of order", (double)tr->out_of_order, "", 0);
    report_add(r, "duplicates", "duplicates", (double)tr->duplicates, "", 0);
    report_add(r, "malformed", "malformed", (double)tr->malformed, "", 0);
    report_add(r, "error_frames", "error frames", (double)tr->errors, "", 0);
    report_add(r, "rate_limited", "rate_limited errors", (double)tr->rate_limited, "", 0);
    report_add(r, "dropped", "connections dropped", fl->n_dropped, "", 0);
    if (tr->kind == TRAFFIC_RELAY)
        report_add(r, "cross_node_pct", "sent across nodes",
                   tr->sent ? 100.0 * (double)tr->cross / (double)tr->sent : 0, "%", 1);
    traffic_report_latency(r, &tr->lat);
    if (tr->kind != TRAFFIC_PING) {
        report_add(r, "send_lag_p50_ms", "send lag p50 (tool schedule)",
                   (double)hist_quantile(&tr->lag, 0.50) / 1e6, "ms", 3);
        report_add(r, "send_lag_p99_ms", "send lag p99 (tool schedule)",
                   (double)hist_quantile(&tr->lag, 0.99) / 1e6, "ms", 3);
        report_add(r, "send_lag_max_ms", "send lag max (tool schedule)", (double)tr->lag.max / 1e6,
                   "ms", 3);
        report_add(r, "tool_overflow", "sends the tool could not queue",
                   (double)(tr->overflow + tr->unsendable), "", 0);
    }
    load_report_cpu(ld, (double)tr->delivered);
    if (tr->delivered == 0)
        ld->failed = 1;
}

/* ---- Entry ---- */

int traffic_run(struct load *ld) {
    struct traffic *tr = calloc(1, sizeof(*tr));
    const char *s = ld->opt.scenario;
    int rc = -1;
    if (!tr)
        return -1;
    tr->ld = ld;
    tr->kind = strcmp(s, "chat") == 0   ? TRAFFIC_CHAT
               : strcmp(s, "ping") == 0 ? TRAFFIC_PING
                                        : TRAFFIC_RELAY;
    hist_init(&tr->lat);
    hist_init(&tr->lag);
    uint32_t rooms = (uint32_t)ld->opt.rooms, peers = (uint32_t)ld->opt.peers;
    if (fleet_init(&tr->fl, ld, rooms, peers, &traffic_hooks) < 0)
        goto out;
    tr->fl.data = tr;
    tr->tp = calloc(tr->fl.n, sizeof(*tr->tp));
    tr->last_n_all = calloc((size_t)tr->fl.n * peers, sizeof(*tr->last_n_all));
    tr->room_joined = calloc(rooms, sizeof(*tr->room_joined));
    if (!tr->tp || !tr->last_n_all || !tr->room_joined)
        goto out;
    for (uint32_t i = 0; i < tr->fl.n; i++)
        tr->tp[i].last_n = &tr->last_n_all[(size_t)i * peers];
    if (wsc_init(&ld->wsc, &ld->loop, &fleet_wsc_ops) < 0)
        goto out;
    uv_timer_init(&ld->loop, &tr->tick);
    tr->tick.data = tr;
    fleet_connect(&tr->fl);
    uv_run(&ld->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&tr->tick, NULL);
    uv_close((uv_handle_t *)&tr->fl.timer, NULL);
    wsc_destroy(&ld->wsc);
    rc = tr->phase == TRAFFIC_DONE ? 0 : -1;
out:
    fleet_free(&tr->fl);
    free(tr->tp);
    free(tr->last_n_all);
    free(tr->room_joined);
    free(tr);
    return rc;
}
