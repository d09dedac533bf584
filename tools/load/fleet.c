/*
 * fleet: see fleet.h. Progress is checked from a timer every few
 * milliseconds rather than after every frame: with thousands of members,
 * asking "has everyone seen their whole room?" is a scan, and the scan is
 * cheap only when it is rare.
 */
#include "fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "token.h"

#define FLEET_TICK_MS      20
#define FLEET_WAIT_BASE_MS 30000 /* for the whole fleet to be in, plus per member: */
#define FLEET_WAIT_EACH_US 2000
#define FLEET_TOKEN_TTL_S  (6 * 3600)
#define FLEET_PATH_MAX     1024
#define FLEET_SETTLE_MS    3000 /* once all are in, for the last member lists */

static struct fleet_member *fleet_of(struct wsc_conn *c) {
    return (struct fleet_member *)c;
}

int fleet_init(struct fleet *fl, struct load *ld, uint32_t rooms, uint32_t peers,
               const struct fleet_hooks *hooks) {
    memset(fl, 0, sizeof(*fl));
    fl->ld = ld;
    fl->hooks = hooks;
    fl->rooms = rooms;
    fl->peers = peers;
    fl->n = rooms * peers;
    fl->max_inflight = ld->opt.inflight > 0 ? (uint32_t)ld->opt.inflight : 200;
    hist_init(&fl->join_lat);
    fl->m = calloc(fl->n, sizeof(*fl->m));
    fl->tokens = calloc(fl->n, sizeof(*fl->tokens));
    if (!fl->m || !fl->tokens)
        return -1;
    for (uint32_t i = 0; i < fl->n; i++) {
        char sub[32];
        struct fleet_member *m = &fl->m[i];
        m->fl = fl;
        m->index = i;
        m->room = i / peers;
        m->slot = i % peers;
        snprintf(sub, sizeof(sub), "p%u", i);
        fl->tokens[i] = token_mint(ld->opt.secret, sub, FLEET_TOKEN_TTL_S);
        if (!fl->tokens[i])
            return -1;
    }
    return 0;
}

void fleet_free(struct fleet *fl) {
    for (uint32_t i = 0; fl->tokens && i < fl->n; i++)
        free(fl->tokens[i]);
    free(fl->tokens);
    free(fl->m);
    fl->tokens = NULL;
    fl->m = NULL;
}

void fleet_per_node(const struct fleet *fl, uint32_t *per_node) {
    memset(per_node, 0, sizeof(*per_node) * WSC_MAX_ENDPOINTS);
    for (uint32_t i = 0; i < fl->n; i++)
        if (fl->m[i].joined && fl->m[i].conn.state != WSC_IDLE)
            per_node[fl->m[i].conn.ep]++;
}

/* Opens members while fewer than max_inflight are connecting. */
static void fleet_fill(struct fleet *fl) {
    struct load *ld = fl->ld;
    char path[FLEET_PATH_MAX];
    while (!fl->closing && fl->next < fl->n && fl->inflight < fl->max_inflight) {
        struct fleet_member *m = &fl->m[fl->next++];
        if (m->index % ld->opt.parts != ld->opt.part) {
            m->done = true; /* another process's */
            continue;
        }
        snprintf(path, sizeof(path), "/ws/webrtc/%s-r%u/%s", ld->run_id, m->room,
                 fl->tokens[m->index]);
        m->conn.data = fl;
        m->open_ns = load_now_ns();
        if (wsc_open(&ld->wsc, &m->conn, (int)(m->index % (uint32_t)ld->wsc.n_ep), path) < 0) {
            m->done = true;
            fl->n_failed++;
            continue;
        }
        fl->inflight++;
    }
}

/* The members that joined but have not been told of everyone who joined
 * their room (0: the fleet is settled). */
static uint32_t fleet_unsettled(const struct fleet *fl, bool print) {
    uint32_t n = 0;
    if (fl->ld->opt.parts > 1)
        return 0; /* the other processes' members cannot be checked */
    for (uint32_t r = 0; r < fl->rooms; r++) {
        const struct fleet_member *m = &fl->m[r * fl->peers];
        uint32_t in = 0;
        for (uint32_t s = 0; s < fl->peers; s++)
            in += m[s].joined;
        for (uint32_t s = 0; s < fl->peers; s++) {
            if (!m[s].joined || m[s].seen >= in)
                continue;
            if (print && n < 5)
                fprintf(stderr,
                        "signald-load: %s-r%u: p%u (node %d) knows %u of the %u members joined\n",
                        fl->ld->run_id, r, m[s].index, m[s].conn.ep + 1, m[s].seen, in);
            n++;
        }
    }
    return n;
}

static void fleet_on_tick(uv_timer_t *t) {
    struct fleet *fl = t->data;
    if (fl->closing) {
        if (fl->n_open == 0 && fl->inflight == 0) {
            uv_timer_stop(&fl->timer);
            fl->hooks->on_all_closed(fl);
        }
        return;
    }
    if (fl->ready)
        return;
    fleet_fill(fl);
    uint64_t now = load_now_ns();
    uint64_t wait_ns =
        ((uint64_t)FLEET_WAIT_BASE_MS * 1000 + (uint64_t)fl->n * FLEET_WAIT_EACH_US) * 1000;
    bool all_done = fl->next == fl->n && fl->inflight == 0;
    if (all_done && !fl->all_in_ns)
        fl->all_in_ns = now;
    bool timed_out = now - fl->started_ns > wait_ns;
    bool settle_over = all_done && now - fl->all_in_ns > (uint64_t)FLEET_SETTLE_MS * 1000000u;
    if ((all_done && fleet_unsettled(fl, false) == 0) || settle_over || timed_out) {
        if (timed_out && !all_done) {
            fprintf(stderr, "signald-load: gave up waiting for the fleet: %u of %u joined\n",
                    fl->n_joined, fl->n);
            fl->ld->failed = 1;
        }
        /* A member never told of a room-mate is a server fault to report,
         * not a reason to stop: traffic picks targets from who joined. */
        fl->n_unsettled = fleet_unsettled(fl, true);
        fl->ready = true;
        fl->ready_ns = now;
        fl->hooks->on_ready(fl);
    }
}

void fleet_connect(struct fleet *fl) {
    fl->started_ns = load_now_ns();
    uv_timer_init(&fl->ld->loop, &fl->timer);
    fl->timer.data = fl;
    uv_timer_start(&fl->timer, fleet_on_tick, FLEET_TICK_MS, FLEET_TICK_MS);
    fleet_fill(fl);
}

void fleet_close_all(struct fleet *fl) {
    fl->closing = true;
    for (uint32_t i = 0; i < fl->n; i++)
        wsc_close(&fl->m[i].conn);
    if (!uv_is_active((uv_handle_t *)&fl->timer))
        uv_timer_start(&fl->timer, fleet_on_tick, FLEET_TICK_MS, FLEET_TICK_MS);
}

/* ---- wsc callbacks ---- */

static void fleet_on_open(struct wsc_conn *c) {
    fleet_of(c)->fl->n_open++;
}

static void fleet_on_message(struct wsc_conn *c, const char *buf, size_t len) {
    struct fleet_member *m = fleet_of(c);
    struct fleet *fl = m->fl;
    enum msg_type type = msg_type(buf, len);
    switch (type) {
    case MSG_ROOM_STATE:
        if (!m->joined) {
            m->joined = true;
            m->done = true;
            fl->n_joined++;
            fl->inflight--;
            hist_record(&fl->join_lat, load_now_ns() - m->open_ns);
            fleet_fill(fl);
        }
        m->seen = msg_count(buf, len, "peer_id");
        return;
    case MSG_PEER_JOINED:
    case MSG_PEER_LEFT: {
        /* The member list, plus the top-level peer_id of who came or went. */
        unsigned n = msg_count(buf, len, "peer_id");
        m->seen = n ? n - 1 : 0;
        return;
    }
    case MSG_ERROR:
        fl->n_errors++;
        break;
    default:
        break;
    }
    fl->hooks->on_message(fl, m, type, buf, len);
}

static size_t fleet_on_writable(struct wsc_conn *c, char *buf, size_t cap) {
    struct fleet_member *m = fleet_of(c);
    return m->fl->hooks->on_writable(m->fl, m, buf, cap);
}

static void fleet_on_closed(struct wsc_conn *c, bool opened, int code) {
    struct fleet_member *m = fleet_of(c);
    struct fleet *fl = m->fl;
    if (opened)
        fl->n_open--;
    if (!m->done) {
        /* Never got its room_state. */
        m->done = true;
        fl->inflight--;
        fl->n_failed++;
        /* No refill here: a connect that fails at once would recurse. The
         * tick refills. */
    } else if (!fl->closing) {
        fl->n_dropped++;
    }
    if (code)
        fl->last_close_code = code;
}

const struct wsc_ops fleet_wsc_ops = {
    .on_open = fleet_on_open,
    .on_message = fleet_on_message,
    .on_writable = fleet_on_writable,
    .on_closed = fleet_on_closed,
};
