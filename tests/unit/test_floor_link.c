/*
 * Unit tests for tools/floor/link: signald-floor's fixed-size framing over
 * a real socket pair. The floor's figures are only worth reading if every
 * message arrives whole and in order however the bytes are split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link.h"

#define MSG_SIZE 64
#define MAX_SEEN 64

struct seen {
    uint32_t to[MAX_SEEN], from[MAX_SEEN];
    uint64_t sent[MAX_SEEN];
    size_t n;
    bool close_on_first;
};

static void on_msg(void *ctx, struct link *l, const char *msg) {
    struct seen *s = ctx;
    assert_true(s->n < MAX_SEEN);
    s->to[s->n] = msg_to(msg);
    s->from[s->n] = msg_from(msg);
    s->sent[s->n] = msg_sent_ns(msg);
    s->n++;
    for (size_t i = FLOOR_HDR; i < floor_size; i++)
        assert_int_equal(msg[i], 'x');
    if (s->close_on_first)
        link_close(l);
}

/* fds[0] wrapped in a link (non-blocking), fds[1] the other end. */
static void make_pair(int fds[2], struct link *l) {
    floor_size = MSG_SIZE;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    link_init(l, fds[0], 7);
}

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

static void test_reassembles_split_messages(void **state) {
    int fds[2];
    struct link l;
    struct seen s = {0};
    char bytes[5 * MSG_SIZE];
    make_pair(fds, &l);
    for (uint32_t i = 0; i < 5; i++)
        msg_fill(bytes + i * MSG_SIZE, i, 100 + i, 1000000007ull * i);
    /* Cuts inside the header, inside the filler, across two messages. */
    static const size_t cuts[] = {1, 63, 65, 10, 181};
    size_t off = 0;
    for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
        write_all(fds[1], bytes + off, cuts[c]);
        off += cuts[c];
        assert_true(link_read(&l, on_msg, &s));
    }
    assert_int_equal(off, sizeof(bytes));
    assert_int_equal(s.n, 5);
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(s.to[i], i);
        assert_int_equal(s.from[i], 100 + i);
        assert_int_equal(s.sent[i], 1000000007ull * i);
    }
    assert_int_equal(l.in_len, 0);
    link_close(&l);
    close(fds[1]);
}

static void test_stops_when_the_callback_closes(void **state) {
    int fds[2];
    struct link l;
    struct seen s = {.close_on_first = true};
    char bytes[3 * MSG_SIZE];
    make_pair(fds, &l);
    for (uint32_t i = 0; i < 3; i++)
        msg_fill(bytes + i * MSG_SIZE, i, i, i);
    write_all(fds[1], bytes, sizeof(bytes));
    assert_false(link_read(&l, on_msg, &s));
    assert_int_equal(s.n, 1);
    assert_int_equal(l.fd, -1);
    close(fds[1]);
}

static void test_reports_the_peer_closing(void **state) {
    int fds[2];
    struct link l;
    struct seen s = {0};
    char msg[MSG_SIZE];
    make_pair(fds, &l);
    msg_fill(msg, 1, 2, 3);
    write_all(fds[1], msg, sizeof(msg));
    close(fds[1]);
    /* What came before the close is delivered; a short read ends the call,
     * so the close shows on the next one (epoll wakes it, level-triggered). */
    assert_true(link_read(&l, on_msg, &s));
    assert_int_equal(s.n, 1);
    assert_false(link_read(&l, on_msg, &s));
    assert_int_equal(s.n, 1);
    link_close(&l);
}

/* A full socket: what it refuses stays queued, EPOLLOUT is armed, and the
 * next flush after the peer reads sends the rest, in order. */
static void test_keeps_what_the_socket_refuses(void **state) {
    int fds[2];
    struct link l;
    struct seen s = {0};
    char msg[MSG_SIZE];
    int small = 4096;
    make_pair(fds, &l);
    assert_int_equal(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    int ep = floor_epoll();
    link_watch(&l, ep);
    uint32_t sent = 0;
    while (!l.want_out) {
        assert_true(sent < 100000);
        msg_fill(msg, sent, 0, 0);
        link_send(&l, ep, msg);
        sent++;
    }
    assert_true(l.out_len > 0);
    assert_int_equal(l.out_len % MSG_SIZE, 0);

    struct link peer;
    link_init(&peer, fds[1], 8);
    assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
    uint32_t got = 0;
    while (got < sent) {
        s.n = 0;
        link_read(&peer, on_msg, &s);
        for (size_t i = 0; i < s.n; i++)
            assert_int_equal(s.to[i], got + i);
        got += (uint32_t)s.n;
        link_flush(&l, ep);
    }
    assert_int_equal(l.out_len, 0);
    assert_false(l.want_out);
    link_close(&l);
    link_close(&peer);
    close(ep);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reassembles_split_messages),
        cmocka_unit_test(test_stops_when_the_callback_closes),
        cmocka_unit_test(test_reports_the_peer_closing),
        cmocka_unit_test(test_keeps_what_the_socket_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
