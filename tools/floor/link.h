/*
 * link: the bare plumbing of signald-floor's processes. A link is one
 * non-blocking TCP socket carrying fixed-size messages: a partial message
 * in, a queue out (written at once when nothing waits, else on EPOLLOUT).
 * Also the few helpers every role needs: loopback sockets, epoll, fork.
 * No library and no allocation per message: this is the floor under what
 * signald's libraries do.
 */
#ifndef FLOOR_LINK_H
#define FLOOR_LINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FLOOR_HDR      16   /* u32 to, u32 from, u64 sent at (ns) */
#define FLOOR_MAX_SIZE 4096 /* largest message */
#define FLOOR_EVENTS   256  /* epoll events taken per wake-up */

/* Bytes per message, the same for every message of a run (-s). */
extern size_t floor_size;

struct link {
    int fd;
    uint32_t tag;  /* epoll data of this socket */
    bool want_out; /* EPOLLOUT armed */
    size_t in_len; /* bytes of a partial message in `in` */
    char in[FLOOR_MAX_SIZE];
    char *out; /* pending bytes, owned (freed by link_close) */
    size_t out_len, out_cap;
};

typedef void link_msg_fn(void *ctx, struct link *from, const char *msg);

void link_init(struct link *l, int fd, uint32_t tag);

/* Starts watching l for input on ep; exits the process on failure. */
void link_watch(struct link *l, int ep);

/* Appends one message to the queue, to be written by link_flush. */
void link_queue(struct link *l, const char *msg);

/* Writes what is queued; arms EPOLLOUT while anything is left. */
void link_flush(struct link *l, int ep);

/* Sends one message now, or queues it behind what is already waiting. */
void link_send(struct link *l, int ep, const char *msg);

/* Reads what there is and calls on_msg for each whole message. Returns
 * false when a read finds the peer closed or the socket failed, or when
 * on_msg closed the link (link_close). A read shorter than the buffer ends
 * the call: a close behind it is found by the next call. */
bool link_read(struct link *l, link_msg_fn *on_msg, void *ctx);

/* Closes the socket and frees the queue; l can be initialised again. */
void link_close(struct link *l);

/* The 4-byte fields of a message header. */
uint32_t msg_to(const char *msg);
uint32_t msg_from(const char *msg);
uint64_t msg_sent_ns(const char *msg);
/* Fills a message: header, then filler up to floor_size. */
void msg_fill(char *msg, uint32_t to, uint32_t from, uint64_t sent_ns);

uint64_t floor_now_ns(void);

/* A listening loopback socket on a free port; its address in *addr. */
int floor_listen(struct sockaddr_in *addr);

/* One loopback TCP connection made now: *near is the connecting end,
 * *far the accepted one; both non-blocking, without Nagle. */
void floor_pair(int lfd, const struct sockaddr_in *addr, int *near, int *far);

/* Sets TCP_NODELAY (signald's sockets have it). */
void floor_nodelay(int fd);

/* A new epoll set; exits the process on failure. */
int floor_epoll(void);

/* Forks a child that runs run(arg) and exits; it dies with its parent. */
pid_t floor_spawn(void (*run)(void *arg), void *arg);

#endif
