/*
 * endturn: runs a function once at the end of the current libuv loop turn,
 * after the turn's I/O callbacks and before the loop sleeps again. Work
 * that many callbacks of one turn add to (socket writes, Redis commands)
 * is then done once per turn instead of once per callback.
 *
 * A check handle runs the function. An idle handle is started with it:
 * without one, a turn armed from a timer callback (which runs before the
 * loop polls) would sleep in poll first, until some socket or timer woke
 * it.
 */
#ifndef SIGNALD_ENDTURN_H
#define SIGNALD_ENDTURN_H

#include <stdbool.h>

#include <uv.h>

struct endturn;
typedef void endturn_fn(struct endturn *et);

struct endturn {
    uv_check_t check;
    uv_idle_t idle;
    endturn_fn *fn;
    void *data; /* the owner's */
    bool closed;
};

void endturn_init(struct endturn *et, uv_loop_t *loop, endturn_fn *fn, void *data);

/* fn runs at the end of this turn (of the next one when called from fn).
 * Arming twice runs it once. Returns -1 once the handles are closed. */
int endturn_arm(struct endturn *et);

/* Closes both handles; the loop must run once more before et is freed. */
void endturn_close(struct endturn *et);

#endif
