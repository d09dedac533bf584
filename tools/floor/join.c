/*
 * join: the cost of a short visit with nothing done on the way. Each of K
 * driver slots loops on connect -> request -> answer -> "close" -> wait
 * for the forwarder to close -> connect again, slot k always through
 * forwarder k % 2 (signald-load's join storm, minus WebSocket, tokens and
 * rooms). A forwarder accepts, passes the request to the hub and back
 * (the join script's round trip to Redis), answers, and on "close" closes
 * first (as a WebSocket server does) and sends the hub the leave, whose
 * answer it drops. Room events to other members are not modelled: the
 * floor is below signald's join by at least them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../load/hist.h"
#include "floor.h"
#include "link.h"

#define JOIN_TAG_HUB    UINT32_MAX
#define JOIN_TAG_LISTEN (UINT32_MAX - 1)
#define JOIN_MAX_CONNS  4096 /* sockets a forwarder holds at once */

enum join_kind { JOIN_REQUEST, JOIN_LEAVE };

/* ---- forwarder ---- */

struct join_fwd {
    int ep, lfd;
    struct link hub;
    struct link *conns; /* JOIN_MAX_CONNS; fd -1 when free */
    uint32_t *free_ids;
    uint32_t n_free;
};

static void fwd_close(struct join_fwd *f, struct link *c) {
    char msg[FLOOR_MAX_SIZE];
    msg_fill(msg, JOIN_LEAVE, c->tag, 0);
    link_queue(&f->hub, msg);
    f->free_ids[f->n_free++] = c->tag;
    link_close(c); /* also leaves the epoll set */
}

static void fwd_from_client(void *ctx, struct link *c, const char *msg) {
    struct join_fwd *f = ctx;
    if (msg_to(msg) == JOIN_LEAVE) {
        fwd_close(f, c);
        return;
    }
    char req[FLOOR_MAX_SIZE];
    msg_fill(req, JOIN_REQUEST, c->tag, msg_sent_ns(msg));
    link_queue(&f->hub, req);
}

static void fwd_from_hub(void *ctx, struct link *hub, const char *msg) {
    struct join_fwd *f = ctx;
    uint32_t id = msg_from(msg);
    (void)hub;
    if (msg_to(msg) == JOIN_REQUEST && id < JOIN_MAX_CONNS && f->conns[id].fd >= 0)
        link_send(&f->conns[id], f->ep, msg);
}

static void fwd_accept(struct join_fwd *f) {
    for (;;) {
        int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0)
            return;
        if (f->n_free == 0) {
            close(fd);
            continue;
        }
        uint32_t id = f->free_ids[--f->n_free];
        floor_nodelay(fd);
        link_init(&f->conns[id], fd, id);
        link_watch(&f->conns[id], f->ep);
    }
}

static void fwd_run(void *arg) {
    struct join_fwd *f = arg;
    struct epoll_event lev = {.events = EPOLLIN, .data.u32 = JOIN_TAG_LISTEN};
    f->ep = floor_epoll();
    f->conns = calloc(JOIN_MAX_CONNS, sizeof(*f->conns));
    f->free_ids = calloc(JOIN_MAX_CONNS, sizeof(*f->free_ids));
    if (!f->conns || !f->free_ids || epoll_ctl(f->ep, EPOLL_CTL_ADD, f->lfd, &lev) < 0) {
        perror("signald-floor: forwarder");
        exit(1);
    }
    for (uint32_t i = 0; i < JOIN_MAX_CONNS; i++) {
        link_init(&f->conns[i], -1, i);
        f->free_ids[f->n_free++] = JOIN_MAX_CONNS - 1 - i;
    }
    link_watch(&f->hub, f->ep);
    struct epoll_event evs[FLOOR_EVENTS];
    for (;;) {
        int n = epoll_wait(f->ep, evs, FLOOR_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            uint32_t tag = evs[i].data.u32;
            if (tag == JOIN_TAG_LISTEN) {
                fwd_accept(f);
                continue;
            }
            struct link *l = tag == JOIN_TAG_HUB ? &f->hub : &f->conns[tag];
            if (l->fd < 0)
                continue; /* closed earlier in this wake-up */
            if (evs[i].events & EPOLLOUT)
                link_flush(l, f->ep);
            if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                continue;
            if (tag == JOIN_TAG_HUB) {
                if (!link_read(l, fwd_from_hub, f))
                    exit(0);
            } else if (!link_read(l, fwd_from_client, f) && l->fd >= 0) {
                fwd_close(f, l); /* the client left without "close" */
            }
        }
        if (f->hub.out_len && !f->hub.want_out)
            link_flush(&f->hub, f->ep);
    }
}

/* ---- driver ---- */

enum slot_state { SLOT_CONNECTING, SLOT_ASKED, SLOT_CLOSING, SLOT_IDLE };

struct join_slot {
    struct link l;
    enum slot_state state;
    uint64_t start_ns;
};

struct join_driver {
    int ep;
    uint32_t k;
    struct join_slot *slots;
    struct sockaddr_in addr[FLOOR_FWDS];
    bool starting; /* false once the window is over: slots go idle */
    uint64_t win_start_ns, win_end_ns;
    uint64_t joins, failed;
    struct hist lat;
};

static void slot_connect(struct join_driver *d, struct join_slot *s, uint32_t idx) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    const struct sockaddr_in *a = &d->addr[idx % FLOOR_FWDS];
    if (fd < 0) {
        perror("signald-floor: socket");
        exit(1);
    }
    floor_nodelay(fd);
    link_init(&s->l, fd, idx);
    s->start_ns = floor_now_ns();
    s->state = SLOT_CONNECTING;
    if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0 && errno != EINPROGRESS) {
        perror("signald-floor: connect");
        exit(1);
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = idx};
    epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void slot_next(struct join_driver *d, struct join_slot *s) {
    uint32_t idx = s->l.tag;
    link_close(&s->l);
    if (d->starting) {
        slot_connect(d, s, idx);
    } else {
        s->state = SLOT_IDLE;
        s->l.tag = idx;
    }
}

static void slot_on_msg(void *ctx, struct link *l, const char *msg) {
    struct join_driver *d = ctx;
    struct join_slot *s = (struct join_slot *)l;
    uint64_t now = floor_now_ns();
    char bye[FLOOR_MAX_SIZE];
    (void)msg;
    if (s->state != SLOT_ASKED)
        return;
    if (now >= d->win_start_ns && now < d->win_end_ns) {
        d->joins++;
        hist_record(&d->lat, now - s->start_ns);
    }
    msg_fill(bye, JOIN_LEAVE, 0, now);
    link_send(l, d->ep, bye);
    s->state = SLOT_CLOSING;
}

static void slot_on_event(struct join_driver *d, struct join_slot *s, uint32_t events) {
    char req[FLOOR_MAX_SIZE];
    if (s->state == SLOT_CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(s->l.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            d->failed++;
            slot_next(d, s);
            return;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = s->l.tag};
        epoll_ctl(d->ep, EPOLL_CTL_MOD, s->l.fd, &ev);
        s->state = SLOT_ASKED;
        msg_fill(req, JOIN_REQUEST, 0, s->start_ns);
        link_send(&s->l, d->ep, req);
        return;
    }
    if (events & EPOLLOUT)
        link_flush(&s->l, d->ep);
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !link_read(&s->l, slot_on_msg, d)) {
        if (s->state != SLOT_CLOSING)
            d->failed++;
        slot_next(d, s); /* the forwarder closed: the visit is over */
    }
}

static uint32_t driver_busy(const struct join_driver *d) {
    uint32_t busy = 0;
    for (uint32_t i = 0; i < d->k; i++)
        busy += d->slots[i].state != SLOT_IDLE;
    return busy;
}

static void driver_loop(struct join_driver *d, uint64_t until) {
    struct epoll_event evs[FLOOR_EVENTS];
    while (floor_now_ns() < until && (d->starting || driver_busy(d))) {
        int n = epoll_wait(d->ep, evs, FLOOR_EVENTS, 5);
        for (int i = 0; i < n; i++)
            slot_on_event(d, &d->slots[evs[i].data.u32], evs[i].events);
    }
}

int join_run(const struct floor_opts *o, struct report *r) {
    int hub_ends[FLOOR_FWDS];
    struct join_fwd fwds[FLOOR_FWDS];
    struct join_driver d = {.k = o->inflight, .starting = true};

    floor_start_hub(true, hub_ends);
    for (int k = 0; k < FLOOR_FWDS; k++) {
        fwds[k] = (struct join_fwd){.lfd = floor_listen(&d.addr[k])};
        link_init(&fwds[k].hub, hub_ends[k], JOIN_TAG_HUB);
    }
    for (int k = 0; k < FLOOR_FWDS; k++)
        floor_pids[1 + k] = floor_spawn(fwd_run, &fwds[k]);
    for (int k = 0; k < FLOOR_FWDS; k++) {
        close(hub_ends[k]);
        close(fwds[k].lfd);
    }

    d.ep = floor_epoll();
    d.slots = calloc(d.k, sizeof(*d.slots));
    if (!d.slots) {
        fprintf(stderr, "signald-floor: out of memory\n");
        exit(1);
    }
    hist_init(&d.lat);
    uint64_t start = floor_now_ns();
    d.win_start_ns = start + (uint64_t)(o->warmup_s * 1e9);
    d.win_end_ns = d.win_start_ns + (uint64_t)(o->duration_s * 1e9);
    for (uint32_t i = 0; i < d.k; i++)
        slot_connect(&d, &d.slots[i], i);

    struct floor_sample before, after;
    driver_loop(&d, d.win_start_ns);
    floor_sample(&before);
    driver_loop(&d, d.win_end_ns);
    floor_sample(&after);
    d.starting = false;
    driver_loop(&d, floor_now_ns() + 2000000000u);
    floor_stop();

    double win_s = (double)(after.at_ns - before.at_ns) / 1e9;
    report_add(r, "inflight", "joins in flight", d.k, "", 0);
    report_add(r, "joins", "joins (in window)", (double)d.joins, "", 0);
    report_add(r, "joins_per_s", "joins per second", (double)d.joins / win_s, "/s", 0);
    report_add(r, "failed", "visits failed", (double)d.failed, "", 0);
    floor_report_latency(r, &d.lat);
    floor_report_cpu(r, &before, &after, (double)d.joins);
    for (uint32_t i = 0; i < d.k; i++)
        link_close(&d.slots[i].l);
    free(d.slots);
    close(d.ep);
    return d.joins > 0 && d.failed == 0 ? 0 : 1;
}
