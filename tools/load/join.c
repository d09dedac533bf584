/*
 * join: a storm of short visits. K slots (--inflight) each loop on
 * connect -> room_state -> close (1000) -> connect again, so K joins are
 * always in flight. Slot k is peer "j<k>" in room "<run>-j<k/4>" on node
 * k mod N: rooms of up to 4 spread over the nodes, filling and emptying
 * all the time. A slot always reconnects through the same node, so its
 * leave reaches Redis before its next join over that node's one command
 * link, and each visit is a fresh join, never a reconnect.
 *
 * Joins per second counts the room_states received in the window; the
 * servers' CPU in the window, divided by those joins, is the cost of one
 * join plus one leave.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "load.h"
#include "msg.h"
#include "token.h"

#define JOIN_TICK_MS     10
#define JOIN_STOP_WAIT_S 10
#define JOIN_TOKEN_TTL_S (6 * 3600)
#define JOIN_ROOM_SIZE   4

enum join_phase { JOIN_WARMUP, JOIN_MEASURE, JOIN_STOPPING };

struct join_slot {
    struct wsc_conn conn; /* first: a struct wsc_conn * is a slot */
    struct join *j;
    uint32_t k;
    uint64_t open_ns;
    bool busy; /* a connection is outstanding */
    bool got_state;
};

struct join {
    struct load *ld;
    struct join_slot *slots;
    char **paths;
    uint32_t k;
    enum join_phase phase;
    uint64_t m_start, m_end, stop_until;
    uint64_t joins, failed, refused, started;
    struct hist lat;
    uv_timer_t tick;
    uv_check_t refill;
};

static void join_open(struct join *j, struct join_slot *s) {
    struct load *ld = j->ld;
    s->conn.data = j;
    s->got_state = false;
    s->open_ns = load_now_ns();
    if (wsc_open(&ld->wsc, &s->conn, (int)(s->k % (uint32_t)ld->wsc.n_ep), j->paths[s->k]) < 0) {
        j->failed++;
        return; /* the next refill tries again */
    }
    s->busy = true;
    j->started++;
}

/* Runs once per loop turn: reopens the slots whose visit ended. */
static void join_on_refill(uv_check_t *h) {
    struct join *j = h->data;
    if (j->phase == JOIN_STOPPING)
        return;
    for (uint32_t i = 0; i < j->k; i++)
        if (!j->slots[i].busy)
            join_open(j, &j->slots[i]);
}

static void join_on_open(struct wsc_conn *c) {
    (void)c;
}

static void join_on_message(struct wsc_conn *c, const char *buf, size_t len) {
    struct join_slot *s = (struct join_slot *)c;
    struct join *j = c->data;
    enum msg_type type = msg_type(buf, len);
    if (type == MSG_ROOM_STATE && !s->got_state) {
        uint64_t now = load_now_ns();
        s->got_state = true;
        if (j->phase == JOIN_MEASURE && now >= j->m_start && now < j->m_end) {
            j->joins++;
            hist_record(&j->lat, now - s->open_ns);
        }
        wsc_close(c);
    } else if (type == MSG_ERROR) {
        j->refused++;
        struct report *r = &j->ld->rep;
        if (!r->note[0])
            snprintf(r->note, sizeof(r->note), "first error frame: %.*s",
                     (int)(len > 120 ? 120 : len), buf);
    }
}

static size_t join_on_writable(struct wsc_conn *c, char *buf, size_t cap) {
    (void)c;
    (void)buf;
    (void)cap;
    return 0;
}

static void join_on_closed(struct wsc_conn *c, bool opened, int code) {
    struct join_slot *s = (struct join_slot *)c;
    struct join *j = c->data;
    (void)opened;
    (void)code;
    s->busy = false;
    if (!s->got_state)
        j->failed++;
}

static const struct wsc_ops join_wsc_ops = {
    .on_open = join_on_open,
    .on_message = join_on_message,
    .on_writable = join_on_writable,
    .on_closed = join_on_closed,
};

static void join_report(struct join *j) {
    struct load *ld = j->ld;
    struct report *r = &ld->rep;
    const struct hist *h = &j->lat;
    report_add(r, "nodes", "nodes", ld->wsc.n_ep, "", 0);
    report_add(r, "inflight", "joins in flight", j->k, "", 0);
    report_add(r, "joins", "joins (in window)", (double)j->joins, "", 0);
    report_add(r, "joins_per_s", "joins per second", (double)j->joins / ld->opt.duration_s, "/s",
               0);
    report_add(r, "failed", "visits failed", (double)j->failed, "", 0);
    report_add(r, "refused", "error frames (refusals)", (double)j->refused, "", 0);
    report_add(r, "lat_p50_ms", "join latency p50", (double)hist_quantile(h, 0.50) / 1e6, "ms", 3);
    report_add(r, "lat_p90_ms", "join latency p90", (double)hist_quantile(h, 0.90) / 1e6, "ms", 3);
    report_add(r, "lat_p99_ms", "join latency p99", (double)hist_quantile(h, 0.99) / 1e6, "ms", 3);
    report_add(r, "lat_p999_ms", "join latency p99.9", (double)hist_quantile(h, 0.999) / 1e6, "ms",
               3);
    report_add(r, "lat_max_ms", "join latency max", (double)h->max / 1e6, "ms", 3);
    load_report_cpu(ld, (double)j->joins);
    if (j->joins == 0)
        ld->failed = 1;
}

static bool join_all_idle(const struct join *j) {
    for (uint32_t i = 0; i < j->k; i++)
        if (j->slots[i].busy)
            return false;
    return true;
}

static void join_on_tick(uv_timer_t *t) {
    struct join *j = t->data;
    uint64_t now = load_now_ns();
    if (j->phase == JOIN_WARMUP && now >= j->m_start) {
        load_window_begin(j->ld);
        j->phase = JOIN_MEASURE;
    }
    if (j->phase == JOIN_MEASURE && now >= j->m_end) {
        load_window_end(j->ld);
        j->phase = JOIN_STOPPING;
        j->stop_until = now + (uint64_t)JOIN_STOP_WAIT_S * 1000000000u;
        join_report(j);
    }
    if (j->phase == JOIN_STOPPING && (join_all_idle(j) || now >= j->stop_until)) {
        uv_timer_stop(&j->tick);
        uv_check_stop(&j->refill);
        uv_stop(&j->ld->loop);
    }
}

int join_run(struct load *ld) {
    struct join *j = calloc(1, sizeof(*j));
    int rc = -1;
    if (!j)
        return -1;
    j->ld = ld;
    j->k = ld->opt.inflight > 0 ? (uint32_t)ld->opt.inflight : 50;
    hist_init(&j->lat);
    j->slots = calloc(j->k, sizeof(*j->slots));
    j->paths = calloc(j->k, sizeof(*j->paths));
    if (!j->slots || !j->paths)
        goto out;
    for (uint32_t i = 0; i < j->k; i++) {
        char sub[32], path[1024];
        snprintf(sub, sizeof(sub), "j%u", i);
        char *token = token_mint(ld->opt.secret, sub, JOIN_TOKEN_TTL_S);
        if (!token)
            goto out;
        snprintf(path, sizeof(path), "/ws/webrtc/%s-j%u/%s", ld->run_id, i / JOIN_ROOM_SIZE, token);
        free(token);
        j->paths[i] = strdup(path);
        if (!j->paths[i])
            goto out;
        j->slots[i].j = j;
        j->slots[i].k = i;
    }
    if (wsc_init(&ld->wsc, &ld->loop, &join_wsc_ops) < 0)
        goto out;
    uint64_t now = load_now_ns();
    j->m_start = now + (uint64_t)(ld->opt.warmup_s * 1e9);
    j->m_end = j->m_start + (uint64_t)(ld->opt.duration_s * 1e9);
    uv_timer_init(&ld->loop, &j->tick);
    uv_check_init(&ld->loop, &j->refill);
    j->tick.data = j->refill.data = j;
    uv_timer_start(&j->tick, join_on_tick, JOIN_TICK_MS, JOIN_TICK_MS);
    uv_check_start(&j->refill, join_on_refill);
    uv_run(&ld->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&j->tick, NULL);
    uv_close((uv_handle_t *)&j->refill, NULL);
    wsc_destroy(&ld->wsc);
    rc = j->phase == JOIN_STOPPING ? 0 : -1;
out:
    for (uint32_t i = 0; j->paths && i < j->k; i++)
        free(j->paths[i]);
    free(j->paths);
    free(j->slots);
    free(j);
    return rc;
}
