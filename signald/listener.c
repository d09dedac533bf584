/*
 * listener: see listener.h.
 */
#include "listener.h"

#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "log.h"
#include "wspath.h"

#define LISTENER_BACKLOG    1024
#define LISTENER_PEEK       4096 /* a request line longer than this is refused */
#define LISTENER_TIMEOUT_MS 10000
#define LISTENER_RETRY_MS   5 /* re-peek delay while a request line is incomplete */

/* What the first bytes of a socket decide. */
enum listener_verdict {
    LISTENER_MORE = 0, /* the request line is not all there yet */
    LISTENER_ADOPT,    /* hand it to lws */
    LISTENER_DROP,     /* closed or failed: just close it */
    /* else an HTTP status to refuse it with */
};

/* Peeks at the request line (the bytes stay for lws to read). */
static int listener_judge(int fd) {
    char buf[LISTENER_PEEK];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return LISTENER_MORE;
    if (n <= 0)
        return LISTENER_DROP;
    const char *eol = memchr(buf, '\n', (size_t)n);
    if (!eol)
        return (size_t)n == sizeof(buf) ? 400 : LISTENER_MORE;
    /* "GET /target HTTP/1.1": only WebSocket paths are ours to judge. */
    const char *sp = memchr(buf, ' ', (size_t)(eol - buf));
    const char *target = sp ? sp + 1 : NULL;
    const char *sp2 = target ? memchr(target, ' ', (size_t)(eol - target)) : NULL;
    if (target && sp2 && (size_t)(sp2 - target) >= 4 && memcmp(target, "/ws/", 4) == 0) {
        struct wspath path;
        int status = wspath_parse(target, (size_t)(sp2 - target), &path);
        if (status != WSPATH_OK)
            return status;
    }
    return LISTENER_ADOPT;
}

/* Carries out a verdict other than LISTENER_MORE on fd (which it takes). */
static void listener_settle(struct listener *l, int fd, int verdict) {
    if (verdict == LISTENER_ADOPT) {
        /* On failure lws closes the socket itself. */
        lws_adopt_socket_vhost(l->vhost, fd);
        return;
    }
    if (verdict != LISTENER_DROP) {
        char buf[256];
        int n = http_refusal(buf, sizeof(buf), verdict);
        /* Best effort: the socket is fresh, its buffer empty. */
        if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
            log_debug("event=refusal_unsent err=\"%s\"", strerror(errno));
        shutdown(fd, SHUT_WR);
        l->n_refused++;
    }
    close(fd);
}

/* One accepted socket waiting for its request line. */
struct listener_pending {
    struct listener *l;
    int fd;
    uv_poll_t poll;
    uv_timer_t timer;
    int closing; /* handles still to close */
    int verdict; /* carried out once the handles are closed */
    uint64_t deadline_ms;
    lws_dll2_t link;
};

static void listener_pending_closed(uv_handle_t *h) {
    struct listener_pending *p = h->data;
    if (--p->closing > 0)
        return;
    listener_settle(p->l, p->fd, p->verdict);
    free(p);
}

static void listener_pending_end(struct listener_pending *p, int verdict) {
    lws_dll2_remove(&p->link);
    p->verdict = verdict;
    p->closing = 2;
    uv_close((uv_handle_t *)&p->poll, listener_pending_closed);
    uv_close((uv_handle_t *)&p->timer, listener_pending_closed);
}

/* Judges a waiting socket again. Returns 1 when it is decided (and gone). */
static int listener_check(struct listener_pending *p) {
    int verdict = listener_judge(p->fd);
    if (verdict == LISTENER_MORE)
        return 0;
    listener_pending_end(p, verdict);
    return 1;
}

static void listener_on_timer(uv_timer_t *t);

static void listener_on_readable(uv_poll_t *h, int status, int events) {
    struct listener_pending *p = h->data;
    (void)events;
    if (status < 0) {
        listener_pending_end(p, LISTENER_DROP);
        return;
    }
    if (listener_check(p))
        return;
    /* Incomplete: the peeked bytes stay readable, so wait a little rather
     * than spin on a level-triggered poll. */
    uv_poll_stop(&p->poll);
    uv_timer_start(&p->timer, listener_on_timer, LISTENER_RETRY_MS, 0);
}

static void listener_on_timer(uv_timer_t *t) {
    struct listener_pending *p = t->data;
    if (clock_mono_ms() >= p->deadline_ms) {
        listener_pending_end(p, LISTENER_DROP);
        return;
    }
    uv_poll_start(&p->poll, UV_READABLE, listener_on_readable);
}

static void listener_on_accept(uv_poll_t *h, int status, int events) {
    struct listener *l = h->data;
    (void)events;
    if (status < 0)
        return;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_warn("event=accept_failed err=\"%s\"", strerror(errno));
            return;
        }
        /* Frames are small and written as soon as they are due: Nagle's
         * algorithm would hold the second of two behind the first's ACK. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        /* The request is usually there already (TCP_DEFER_ACCEPT): then
         * no handles, no wait. */
        int verdict = listener_judge(fd);
        if (verdict != LISTENER_MORE) {
            listener_settle(l, fd, verdict);
            continue;
        }
        struct listener_pending *p = calloc(1, sizeof(*p));
        if (!p || uv_poll_init(l->loop, &p->poll, fd) != 0) {
            free(p);
            close(fd);
            continue;
        }
        p->l = l;
        p->fd = fd;
        p->deadline_ms = clock_mono_ms() + LISTENER_TIMEOUT_MS;
        p->poll.data = p->timer.data = p;
        uv_timer_init(l->loop, &p->timer);
        lws_dll2_add_tail(&p->link, &l->pending);
        uv_poll_start(&p->poll, UV_READABLE, listener_on_readable);
    }
}

int listener_start(struct listener *l, uv_loop_t *loop, struct lws_vhost *vhost, const char *host,
                   int port) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char service[16];
    int one = 1;

    l->loop = loop;
    l->vhost = vhost;
    l->fd = -1;
    snprintf(service, sizeof(service), "%d", port);
    int rc = getaddrinfo(host && *host ? host : NULL, service, &hints, &ai);
    if (rc != 0) {
        log_error("event=listen_failed bind=%s port=%d err=\"%s\"", host, port, gai_strerror(rc));
        return -1;
    }
    l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(l->fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(l->fd, LISTENER_BACKLOG) < 0) {
        log_error("event=listen_failed bind=%s port=%d err=\"%s\"", host, port, strerror(errno));
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    /* Connections are handed over once their first bytes are in: most are
     * judged right at accept. Best effort (a plain accept works too). */
    int defer_s = LISTENER_TIMEOUT_MS / 1000;
    if (setsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof(defer_s)) < 0)
        log_debug("event=no_defer_accept err=\"%s\"", strerror(errno));
    uv_poll_init(loop, &l->poll, l->fd);
    l->poll.data = l;
    uv_poll_start(&l->poll, UV_READABLE, listener_on_accept);
    log_info("event=listening bind=%s port=%d", host, port);
    return 0;
}

static void listener_closed(uv_handle_t *h) {
    struct listener *l = h->data;
    close(l->fd);
    l->fd = -1;
}

void listener_stop(struct listener *l) {
    if (l->fd < 0)
        return;
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&l->pending)) {
        listener_pending_end(lws_container_of(d, struct listener_pending, link), LISTENER_DROP);
    }
    lws_end_foreach_dll_safe(d, d1);
    uv_close((uv_handle_t *)&l->poll, listener_closed);
}
