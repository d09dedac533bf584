/*
 * rconn: see rconn.h. The state moves only through rconn_set_state().
 */
#include "rconn.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/adapters/libuv.h>
#include <hiredis/hiredis.h>

#include "clock.h"
#include "log.h"

#define RCONN_BACKOFF_MIN_MS 100
#define RCONN_BACKOFF_MAX_MS 5000
#define RCONN_PING_EVERY_MS  1000

static void rconn_set_state(struct rconn *rc, enum rconn_state state) {
    enum rconn_state old = rc->state;
    rc->state = state;
    rc->since_ms = clock_mono_ms();
    if (state == RCONN_DOWN) {
        rc->retry_at_ms = rc->since_ms + rc->backoff_ms;
        rc->backoff_ms =
            rc->backoff_ms * 2 > RCONN_BACKOFF_MAX_MS ? RCONN_BACKOFF_MAX_MS : rc->backoff_ms * 2;
    }
    if (state == RCONN_UP)
        rc->backoff_ms = RCONN_BACKOFF_MIN_MS;
    if (rc->on_state && old != state && state != RCONN_CONNECTING &&
        !(old == RCONN_CONNECTING && state == RCONN_DOWN))
        rc->on_state(rc, state, rc->data);
}

/* The context is gone (hiredis frees it after its callbacks return). */
static void rconn_lost(struct rconn *rc) {
    if (rc->ac)
        rc->ac->data = NULL;
    rc->ac = NULL;
    rc->flush_pending = false;
    rc->ping_sent_ms = 0;
    rconn_set_state(rc, RCONN_DOWN);
}

static void rconn_on_connect(const redisAsyncContext *ac, int status) {
    struct rconn *rc = ac->data;
    if (!rc)
        return;
    if (status != REDIS_OK) {
        log_warn("event=redis_connect_failed link=%s host=%s port=%d err=\"%s\"", rc->name,
                 rc->host, rc->port, ac->errstr);
        rconn_lost(rc);
        return;
    }
    rc->n_connects++;
    rc->alive_ms = clock_mono_ms();
    log_info("event=redis_up link=%s host=%s port=%d", rc->name, rc->host, rc->port);
    rconn_set_state(rc, RCONN_UP);
}

static void rconn_on_disconnect(const redisAsyncContext *ac, int status) {
    struct rconn *rc = ac->data;
    if (!rc)
        return;
    if (!rc->stopped)
        log_warn("event=redis_down link=%s err=\"%s\"", rc->name,
                 ac->errstr[0] ? ac->errstr : "closed");
    rconn_lost(rc);
}

/* Replies to AUTH and SELECT: a failure makes the link useless. */
static void rconn_on_setup_reply(redisAsyncContext *ac, void *r, void *privdata) {
    redisReply *reply = r;
    struct rconn *rc = ac->data;
    if (rc && reply && reply->type == REDIS_REPLY_ERROR) {
        log_error("event=redis_setup_failed link=%s err=\"%s\"", rc->name, reply->str);
        /* Freed from the tick, never inside a hiredis callback. */
        rc->alive_ms = 0;
    }
}

static void rconn_on_pong(redisAsyncContext *ac, void *r, void *privdata) {
    struct rconn *rc = ac->data;
    if (rc && r) {
        rc->ping_sent_ms = 0;
        rconn_alive(rc);
    }
}

/* hiredis asks for a write whenever a command is queued; its libuv adapter
 * answers by watching for POLLOUT, which costs two epoll_ctl calls and a
 * loop turn per burst of commands. While the link is up the write is made
 * instead at the end of the current loop turn, after every callback that
 * could queue more; only a write the socket cannot take at once falls back
 * to the adapter's POLLOUT wait. */
static void rconn_on_flush(struct endturn *et) {
    struct rconn *rc = et->data;
    if (!rc->flush_pending || !rc->ac)
        return;
    rc->flush_pending = false;
    rc->flushing = true;
    redisAsyncHandleWrite(rc->ac); /* may free the context: rc->ac is then NULL */
    rc->flushing = false;
}

static void rconn_add_write(void *privdata) {
    redisLibuvEvents *ev = privdata;
    struct rconn *rc = ev->context ? ev->context->data : NULL;
    if (!rc || rc->flushing || rc->state != RCONN_UP) {
        redisLibuvAddWrite(privdata);
        return;
    }
    if (endturn_arm(&rc->flush) < 0) {
        redisLibuvAddWrite(privdata);
        return;
    }
    rc->flush_pending = true;
}

/* The adapter calls uv_poll_start() on every read and every write, and
 * libuv drops and re-adds the descriptor each time (two epoll_ctl calls)
 * even when the events it watches do not change. Only real changes go
 * through. */
static void rconn_add_read(void *privdata) {
    redisLibuvEvents *ev = privdata;
    if (!(ev->events & UV_READABLE))
        redisLibuvAddRead(privdata);
}

static void rconn_del_write(void *privdata) {
    redisLibuvEvents *ev = privdata;
    if (ev->events & UV_WRITABLE)
        redisLibuvDelWrite(privdata);
}

static void rconn_connect(struct rconn *rc) {
    redisAsyncContext *ac = redisAsyncConnect(rc->host, rc->port);
    if (!ac || ac->err) {
        log_warn("event=redis_connect_failed link=%s err=\"%s\"", rc->name,
                 ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        rconn_set_state(rc, RCONN_DOWN);
        return;
    }
    ac->data = rc;
    rc->ac = ac;
    redisLibuvAttach(ac, rc->loop);
    ac->ev.addWrite = rconn_add_write;
    ac->ev.addRead = rconn_add_read;
    ac->ev.delWrite = rconn_del_write;
    redisAsyncSetConnectCallback(ac, rconn_on_connect);
    redisAsyncSetDisconnectCallback(ac, rconn_on_disconnect);
    /* Queued now, sent first once connected: later commands follow them. */
    if (rc->password)
        redisAsyncCommand(ac, rconn_on_setup_reply, NULL, "AUTH %s", rc->password);
    if (rc->db)
        redisAsyncCommand(ac, rconn_on_setup_reply, NULL, "SELECT %d", rc->db);
    rconn_set_state(rc, RCONN_CONNECTING);
}

int rconn_start(struct rconn *rc) {
    endturn_init(&rc->flush, rc->loop, rconn_on_flush, rc);
    rc->backoff_ms = RCONN_BACKOFF_MIN_MS;
    rc->stopped = false;
    rconn_connect(rc);
    return 0;
}

void rconn_alive(struct rconn *rc) {
    rc->alive_ms = clock_mono_ms();
}

void rconn_drop(struct rconn *rc, const char *why) {
    redisAsyncContext *ac = rc->ac;
    if (!ac)
        return;
    log_warn("event=redis_drop link=%s reason=%s", rc->name, why);
    if (rc->state != RCONN_UP) {
        /* Not connected: hiredis calls no disconnect callback. */
        ac->data = NULL;
        redisAsyncFree(ac);
        rconn_lost(rc);
        return;
    }
    redisAsyncFree(ac); /* runs rconn_on_disconnect, which calls rconn_lost */
    if (rc->ac == ac)
        rconn_lost(rc);
}

void rconn_tick(struct rconn *rc, uint64_t now_ms) {
    if (rc->stopped)
        return;
    switch (rc->state) {
    case RCONN_DOWN:
        if (now_ms >= rc->retry_at_ms)
            rconn_connect(rc);
        break;
    case RCONN_CONNECTING:
        if (now_ms - rc->since_ms > rc->timeout_ms)
            rconn_drop(rc, "connect_timeout");
        break;
    case RCONN_UP:
        if (rc->alive_ms == 0 || now_ms - rc->alive_ms > rc->timeout_ms + RCONN_PING_EVERY_MS) {
            rconn_drop(rc, "timeout");
            break;
        }
        if (rc->ping && rc->ping_sent_ms == 0 && now_ms - rc->alive_ms >= RCONN_PING_EVERY_MS) {
            rc->ping_sent_ms = now_ms;
            redisAsyncCommand(rc->ac, rconn_on_pong, NULL, "PING");
        }
        break;
    }
}

int rconn_command_argv(struct rconn *rc, redisCallbackFn *fn, void *privdata, int argc,
                       const char **argv, const size_t *argvlen) {
    if (rc->state != RCONN_UP || !rc->ac)
        return -1;
    return redisAsyncCommandArgv(rc->ac, fn, privdata, argc, argv, argvlen) == REDIS_OK ? 0 : -1;
}

void rconn_stop(struct rconn *rc) {
    rc->stopped = true;
    endturn_close(&rc->flush);
    if (rc->ac) {
        redisAsyncContext *ac = rc->ac;
        if (rc->state != RCONN_UP) {
            ac->data = NULL;
            rc->ac = NULL;
        }
        redisAsyncFree(ac);
    }
    rc->ac = NULL;
    rc->state = RCONN_DOWN;
}

bool rconn_is_up(const struct rconn *rc) {
    return rc->state == RCONN_UP;
}
