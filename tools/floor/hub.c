/*
 * hub: see floor.h. Everything read in one wake-up is written once at its
 * end, one write per link, as Redis answers a pipeline.
 */
#include <stdlib.h>
#include <sys/epoll.h>

#include "floor.h"
#include "link.h"

struct hub {
    int ep;
    bool answer;
    struct link links[FLOOR_FWDS];
};

static void hub_on_msg(void *ctx, struct link *from, const char *msg) {
    struct hub *h = ctx;
    if (h->answer)
        link_queue(from, msg);
    else
        link_queue(&h->links[from == &h->links[0] ? 1 : 0], msg);
}

void hub_run(int link_fds[FLOOR_FWDS], bool answer) {
    struct hub h = {.ep = floor_epoll(), .answer = answer};
    for (uint32_t k = 0; k < FLOOR_FWDS; k++) {
        link_init(&h.links[k], link_fds[k], k);
        link_watch(&h.links[k], h.ep);
    }
    struct epoll_event evs[FLOOR_EVENTS];
    for (;;) {
        int n = epoll_wait(h.ep, evs, FLOOR_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            struct link *l = &h.links[evs[i].data.u32];
            if (evs[i].events & EPOLLOUT)
                link_flush(l, h.ep);
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !link_read(l, hub_on_msg, &h))
                exit(0); /* a forwarder is gone: the run is over */
        }
        for (int k = 0; k < FLOOR_FWDS; k++)
            if (h.links[k].out_len && !h.links[k].want_out)
                link_flush(&h.links[k], h.ep);
    }
}
