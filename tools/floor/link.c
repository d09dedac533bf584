/*
 * link: see link.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "link.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

size_t floor_size = 300;

void link_init(struct link *l, int fd, uint32_t tag) {
    memset(l, 0, sizeof(*l));
    l->fd = fd;
    l->tag = tag;
}

void link_watch(struct link *l, int ep) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = l->tag};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
        perror("signald-floor: epoll_ctl");
        exit(1);
    }
}

void link_queue(struct link *l, const char *msg) {
    if (l->out_len + floor_size > l->out_cap) {
        size_t cap = l->out_cap ? l->out_cap * 2 : 16 * floor_size;
        char *grown = realloc(l->out, cap);
        if (!grown) {
            perror("signald-floor: realloc");
            exit(1);
        }
        l->out = grown;
        l->out_cap = cap;
    }
    memcpy(l->out + l->out_len, msg, floor_size);
    l->out_len += floor_size;
}

void link_flush(struct link *l, int ep) {
    size_t done = 0;
    while (done < l->out_len) {
        ssize_t w = write(l->fd, l->out + done, l->out_len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) /* the peer is gone: drop what waits */
                done = l->out_len;
            break;
        }
        done += (size_t)w;
    }
    memmove(l->out, l->out + done, l->out_len - done);
    l->out_len -= done;
    bool want = l->out_len > 0;
    if (want != l->want_out) {
        struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u32 = l->tag};
        epoll_ctl(ep, EPOLL_CTL_MOD, l->fd, &ev);
        l->want_out = want;
    }
}

void link_send(struct link *l, int ep, const char *msg) {
    link_queue(l, msg);
    if (!l->want_out)
        link_flush(l, ep);
}

bool link_read(struct link *l, link_msg_fn *on_msg, void *ctx) {
    static char buf[1 << 16];
    for (;;) {
        ssize_t r = read(l->fd, buf, sizeof(buf));
        if (r == 0)
            return false;
        if (r < 0)
            return errno == EAGAIN || errno == EINTR;
        size_t off = 0, n = (size_t)r;
        if (l->in_len) { /* complete the partial message first */
            off = floor_size - l->in_len < n ? floor_size - l->in_len : n;
            memcpy(l->in + l->in_len, buf, off);
            l->in_len += off;
            if (l->in_len < floor_size)
                continue;
            l->in_len = 0;
            on_msg(ctx, l, l->in);
            if (l->fd < 0)
                return false;
        }
        for (; n - off >= floor_size; off += floor_size) {
            on_msg(ctx, l, buf + off);
            if (l->fd < 0)
                return false;
        }
        memcpy(l->in, buf + off, n - off);
        l->in_len = n - off;
        if (n < sizeof(buf))
            return true;
    }
}

void link_close(struct link *l) {
    if (l->fd >= 0)
        close(l->fd);
    free(l->out);
    link_init(l, -1, 0);
}

uint32_t msg_to(const char *msg) {
    uint32_t v;
    memcpy(&v, msg, sizeof(v));
    return v;
}

uint32_t msg_from(const char *msg) {
    uint32_t v;
    memcpy(&v, msg + 4, sizeof(v));
    return v;
}

uint64_t msg_sent_ns(const char *msg) {
    uint64_t v;
    memcpy(&v, msg + 8, sizeof(v));
    return v;
}

void msg_fill(char *msg, uint32_t to, uint32_t from, uint64_t sent_ns) {
    memcpy(msg, &to, sizeof(to));
    memcpy(msg + 4, &from, sizeof(from));
    memcpy(msg + 8, &sent_ns, sizeof(sent_ns));
    memset(msg + FLOOR_HDR, 'x', floor_size - FLOOR_HDR);
}

uint64_t floor_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int floor_listen(struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    socklen_t len = sizeof(*addr);
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
        perror("signald-floor: listen");
        exit(1);
    }
    return fd;
}

void floor_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void floor_pair(int lfd, const struct sockaddr_in *addr, int *near, int *far) {
    *near = socket(AF_INET, SOCK_STREAM, 0);
    if (*near < 0 || connect(*near, (const struct sockaddr *)addr, sizeof(*addr)) < 0 ||
        (*far = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0 ||
        fcntl(*near, F_SETFL, O_NONBLOCK) < 0) {
        perror("signald-floor: connect");
        exit(1);
    }
    floor_nodelay(*near);
    floor_nodelay(*far);
}

int floor_epoll(void) {
    int ep = epoll_create1(0);
    if (ep < 0) {
        perror("signald-floor: epoll_create1");
        exit(1);
    }
    return ep;
}

pid_t floor_spawn(void (*run)(void *arg), void *arg) {
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("signald-floor: fork");
        exit(1);
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) /* the parent died before prctl */
            _exit(0);
        run(arg);
        _exit(0);
    }
    return pid;
}
