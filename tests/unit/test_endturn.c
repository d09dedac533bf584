/*
 * Unit tests for common/loop/endturn: a function run once at the end of a
 * loop turn, on a real libuv loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

#include <uv.h>

#include "endturn.h"

struct fixture {
    uv_loop_t loop;
    struct endturn et;
    uv_timer_t arm_timer;  /* arms et when it fires */
    uv_timer_t late_timer; /* would wake a sleeping loop */
    int runs;
    int rearm; /* times fn arms et again from inside */
    bool late_fired;
};

static void on_turn_end(struct endturn *et) {
    struct fixture *f = et->data;
    f->runs++;
    if (f->rearm > 0) {
        f->rearm--;
        assert_int_equal(endturn_arm(et), 0);
    }
}

static void on_arm_timer(uv_timer_t *t) {
    struct fixture *f = t->data;
    endturn_arm(&f->et);
}

static void on_late_timer(uv_timer_t *t) {
    struct fixture *f = t->data;
    f->late_fired = true;
}

static int setup(void **state) {
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    assert_int_equal(uv_loop_init(&f.loop), 0);
    endturn_init(&f.et, &f.loop, on_turn_end, &f);
    uv_timer_init(&f.loop, &f.arm_timer);
    uv_timer_init(&f.loop, &f.late_timer);
    f.arm_timer.data = f.late_timer.data = &f;
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    struct fixture *f = *state;
    endturn_close(&f->et);
    uv_close((uv_handle_t *)&f->arm_timer, NULL);
    uv_close((uv_handle_t *)&f->late_timer, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    return 0;
}

static void nothing_runs_unarmed(void **state) {
    struct fixture *f = *state;
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->runs, 0);
}

static void arming_twice_runs_once(void **state) {
    struct fixture *f = *state;
    assert_int_equal(endturn_arm(&f->et), 0);
    assert_int_equal(endturn_arm(&f->et), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->runs, 1);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->runs, 1);
}

/* Armed from a timer, fn runs in that same turn: the loop does not sleep
 * in poll until the next timer first (without the idle handle it would,
 * and that timer would have fired by the time fn ran). */
static void armed_from_timer_runs_without_sleeping(void **state) {
    struct fixture *f = *state;
    uv_timer_start(&f->arm_timer, on_arm_timer, 0, 0);
    uv_timer_start(&f->late_timer, on_late_timer, 2000, 0);
    uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(f->runs, 1);
    assert_false(f->late_fired);
    uv_timer_stop(&f->late_timer);
}

/* Armed again from fn, it runs once more on the next turn, again without
 * sleeping, and the loop then has nothing left to do. */
static void arming_from_fn_runs_next_turn(void **state) {
    struct fixture *f = *state;
    f->rearm = 2;
    endturn_arm(&f->et);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->runs, 1);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->runs, 2);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->runs, 3);
    assert_int_equal(uv_run(&f->loop, UV_RUN_NOWAIT), 0); /* no active handle */
    assert_int_equal(f->runs, 3);
}

static void closed_refuses_to_arm(void **state) {
    struct fixture *f = *state;
    endturn_close(&f->et);
    assert_int_equal(endturn_arm(&f->et), -1);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->runs, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nothing_runs_unarmed, setup, teardown),
        cmocka_unit_test_setup_teardown(arming_twice_runs_once, setup, teardown),
        cmocka_unit_test_setup_teardown(armed_from_timer_runs_without_sleeping, setup, teardown),
        cmocka_unit_test_setup_teardown(arming_from_fn_runs_next_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(closed_refuses_to_arm, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
