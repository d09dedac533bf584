/*
 * lwsout: WRITEABLE callbacks for lws sockets without arming POLLOUT.
 *
 * lws_callback_on_writable() arms POLLOUT and lws disarms it after the
 * callback; on lws 4.1's libuv backend each change is a uv_poll_start(),
 * which libuv carries out as an epoll_ctl DEL now and an ADD at the next
 * poll. Four system calls that move no data, for every frame sent. But a
 * socket whose kernel buffer has room is writable anyway: so a connection
 * with something to send is put on a list instead, and at the end of the
 * loop turn (see endturn.h) lws is asked to run its POLLOUT handling for
 * it, as poll() would: its own pending data and control frames first, then
 * the WRITEABLE callback. Writes still happen only in that callback. What
 * the socket cannot take whole lws keeps and finishes after a real POLLOUT
 * (lwsout_want then defers to lws_callback_on_writable), so nothing is
 * lost or reordered.
 */
#ifndef SIGNALD_LWSOUT_H
#define SIGNALD_LWSOUT_H

#include <libwebsockets.h>
#include <uv.h>

#include "endturn.h"

/* Kept in the caller's per-connection struct. */
struct lwsout_item {
    lws_dll2_t link;
    struct lws *wsi; /* the caller sets it; NULL once the socket is gone */
};

struct lwsout {
    struct endturn turn;
    lws_dll2_owner_t due;
};

void lwsout_init(struct lwsout *o, uv_loop_t *loop);

/* Closes the handles: later requests go through lws_callback_on_writable. */
void lwsout_close(struct lwsout *o);

/* A WRITEABLE callback for it->wsi, at the end of this loop turn (or
 * through POLLOUT when lws still holds unsent data). */
void lwsout_want(struct lwsout *o, struct lwsout_item *it);

/* Takes it off the list (its connection is going away). */
void lwsout_cancel(struct lwsout_item *it);

#endif
