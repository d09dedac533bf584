/*
 * relay: the path of a relayed signal with nothing done on the way.
 * Client i holds one socket to forwarder i % 2; a message for a client of
 * the same forwarder is written straight to it, any other goes into the
 * hub link, written once at the end of the wake-up (as signald flushes
 * its Redis link), through the hub to the other forwarder and out. The
 * driver paces messages like signald-load's relay: rooms of P, a random
 * room-mate as target, the messages due sent every millisecond.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../load/hist.h"
#include "floor.h"
#include "link.h"

#define RELAY_TAG_HUB   UINT32_MAX       /* a forwarder's hub link */
#define RELAY_TAG_TIMER (UINT32_MAX - 1) /* the driver's millisecond timer */

/* ---- forwarder ---- */

struct relay_fwd {
    int ep;
    uint32_t n;
    struct link *clients; /* by client index; fd -1 on the other forwarder */
    struct link hub;
};

/* Writes msg to its target if the target is a client of this forwarder. */
static bool fwd_deliver(struct relay_fwd *f, const char *msg) {
    uint32_t to = msg_to(msg);
    if (to >= f->n || f->clients[to].fd < 0)
        return false;
    link_send(&f->clients[to], f->ep, msg);
    return true;
}

static void fwd_from_hub(void *ctx, struct link *from, const char *msg) {
    (void)from;
    fwd_deliver(ctx, msg);
}

static void fwd_from_client(void *ctx, struct link *from, const char *msg) {
    struct relay_fwd *f = ctx;
    (void)from;
    if (!fwd_deliver(f, msg))
        link_queue(&f->hub, msg);
}

static void fwd_run(void *arg) {
    struct relay_fwd *f = arg;
    f->ep = floor_epoll();
    link_watch(&f->hub, f->ep);
    for (uint32_t i = 0; i < f->n; i++)
        if (f->clients[i].fd >= 0)
            link_watch(&f->clients[i], f->ep);
    struct epoll_event evs[FLOOR_EVENTS];
    for (;;) {
        int n = epoll_wait(f->ep, evs, FLOOR_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            uint32_t tag = evs[i].data.u32;
            bool hub = tag == RELAY_TAG_HUB;
            struct link *l = hub ? &f->hub : &f->clients[tag];
            if (evs[i].events & EPOLLOUT)
                link_flush(l, f->ep);
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
                !link_read(l, hub ? fwd_from_hub : fwd_from_client, f))
                exit(0); /* the driver is gone */
        }
        if (f->hub.out_len && !f->hub.want_out)
            link_flush(&f->hub, f->ep);
    }
}

/* ---- driver ---- */

struct relay_driver {
    int ep, timer;
    uint32_t n, peers;
    double rate;
    struct link *clients;
    uint64_t start_ns, win_start_ns, win_end_ns;
    uint64_t sent, sent_in_win, got_in_win, delivered_in_win;
    uint64_t rng;
    struct hist lat;
};

static uint32_t driver_random(struct relay_driver *d, uint32_t below) {
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return (uint32_t)(d->rng % below);
}

static void driver_send_one(struct relay_driver *d, uint64_t now) {
    char msg[FLOOR_MAX_SIZE];
    uint32_t from = driver_random(d, d->n);
    uint32_t to = from - from % d->peers + driver_random(d, d->peers - 1);
    if (to >= from)
        to++;
    msg_fill(msg, to, from, now);
    link_send(&d->clients[from], d->ep, msg);
    d->sent++;
    if (now >= d->win_start_ns && now < d->win_end_ns)
        d->sent_in_win++;
}

static void driver_on_msg(void *ctx, struct link *from, const char *msg) {
    struct relay_driver *d = ctx;
    uint64_t sent_at = msg_sent_ns(msg), now = floor_now_ns();
    (void)from;
    if (now >= d->win_start_ns && now < d->win_end_ns)
        d->got_in_win++;
    if (sent_at >= d->win_start_ns && sent_at < d->win_end_ns) {
        d->delivered_in_win++;
        hist_record(&d->lat, now - sent_at);
    }
}

/* Runs until `until` (ns). While sending, the messages due are sent after
 * every wake-up (the timer makes one each millisecond); otherwise it
 * returns early once every message of the window has arrived. */
static void driver_loop(struct relay_driver *d, uint64_t until, bool sending) {
    struct epoll_event evs[FLOOR_EVENTS];
    for (uint64_t now = floor_now_ns(); now < until; now = floor_now_ns()) {
        int n = epoll_wait(d->ep, evs, FLOOR_EVENTS, 5);
        for (int i = 0; i < n; i++) {
            uint32_t tag = evs[i].data.u32;
            if (tag == RELAY_TAG_TIMER) {
                uint64_t ticks;
                if (read(d->timer, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
                    perror("signald-floor: timer");
                continue;
            }
            if (evs[i].events & EPOLLOUT)
                link_flush(&d->clients[tag], d->ep);
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
                !link_read(&d->clients[tag], driver_on_msg, d)) {
                fprintf(stderr, "signald-floor: a forwarder closed a client\n");
                exit(1);
            }
        }
        if (!sending) {
            if (d->delivered_in_win == d->sent_in_win)
                return;
            continue;
        }
        now = floor_now_ns();
        uint64_t due = (uint64_t)((double)(now - d->start_ns) / 1e9 * d->rate);
        while (d->sent < due)
            driver_send_one(d, now);
    }
}

static void driver_start_timer(struct relay_driver *d) {
    struct itimerspec every_ms = {.it_interval = {0, 1000000}, .it_value = {0, 1000000}};
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = RELAY_TAG_TIMER};
    d->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    if (d->timer < 0 || timerfd_settime(d->timer, 0, &every_ms, NULL) < 0 ||
        epoll_ctl(d->ep, EPOLL_CTL_ADD, d->timer, &ev) < 0) {
        perror("signald-floor: timer");
        exit(1);
    }
}

static void relay_report(struct report *r, const struct floor_opts *o, const struct relay_driver *d,
                         const struct floor_sample *a, const struct floor_sample *b) {
    double win_s = (double)(b->at_ns - a->at_ns) / 1e9;
    report_add(r, "connections", "connections", d->n, "", 0);
    report_add(r, "rate_offered", "offered rate", o->rate, "msg/s", 0);
    report_add(r, "rate_delivered", "delivered rate", (double)d->got_in_win / win_s, "msg/s", 0);
    report_add(r, "sent", "sent", (double)d->sent_in_win, "", 0);
    report_add(r, "delivered", "delivered", (double)d->delivered_in_win, "", 0);
    report_add(r, "lost", "lost", (double)(d->sent_in_win - d->delivered_in_win), "", 0);
    floor_report_latency(r, &d->lat);
    floor_report_cpu(r, a, b, (double)d->got_in_win);
}

int relay_run(const struct floor_opts *o, struct report *r) {
    uint32_t n = o->rooms * o->peers;
    int hub_ends[FLOOR_FWDS];
    struct relay_fwd fwds[FLOOR_FWDS];
    struct relay_driver d = {
        .n = n, .peers = o->peers, .rate = o->rate, .rng = 0x9e3779b97f4a7c15u};

    floor_start_hub(false, hub_ends);
    d.clients = calloc(n, sizeof(*d.clients));
    for (int k = 0; k < FLOOR_FWDS; k++) {
        fwds[k] = (struct relay_fwd){.n = n, .clients = calloc(n, sizeof(struct link))};
        link_init(&fwds[k].hub, hub_ends[k], RELAY_TAG_HUB);
        if (!d.clients || !fwds[k].clients) {
            fprintf(stderr, "signald-floor: out of memory\n");
            exit(1);
        }
    }
    /* Every client connection is made here, before the forwarders fork:
     * each uses its own ends (the rest stay open in it, unused). */
    struct sockaddr_in addr;
    int lfd = floor_listen(&addr);
    for (uint32_t i = 0; i < n; i++) {
        int near, far;
        floor_pair(lfd, &addr, &near, &far);
        link_init(&d.clients[i], near, i);
        for (int k = 0; k < FLOOR_FWDS; k++)
            link_init(&fwds[k].clients[i], (int)(i % FLOOR_FWDS) == k ? far : -1, i);
    }
    close(lfd);
    for (int k = 0; k < FLOOR_FWDS; k++)
        floor_pids[1 + k] = floor_spawn(fwd_run, &fwds[k]);
    for (int k = 0; k < FLOOR_FWDS; k++) {
        close(hub_ends[k]);
        for (uint32_t i = k; i < n; i += FLOOR_FWDS)
            close(fwds[k].clients[i].fd);
        free(fwds[k].clients);
    }

    d.ep = floor_epoll();
    driver_start_timer(&d);
    for (uint32_t i = 0; i < n; i++)
        link_watch(&d.clients[i], d.ep);
    hist_init(&d.lat);

    struct floor_sample before, after;
    d.start_ns = floor_now_ns();
    d.win_start_ns = d.start_ns + (uint64_t)(o->warmup_s * 1e9);
    d.win_end_ns = d.win_start_ns + (uint64_t)(o->duration_s * 1e9);
    driver_loop(&d, d.win_start_ns, true);
    floor_sample(&before);
    driver_loop(&d, d.win_end_ns, true);
    floor_sample(&after);
    driver_loop(&d, floor_now_ns() + 2000000000u, false);
    floor_stop();

    relay_report(r, o, &d, &before, &after);
    for (uint32_t i = 0; i < n; i++)
        link_close(&d.clients[i]);
    free(d.clients);
    close(d.timer);
    close(d.ep);
    /* A floor that loses messages measures nothing. */
    return d.delivered_in_win > 0 && d.delivered_in_win == d.sent_in_win ? 0 : 1;
}
