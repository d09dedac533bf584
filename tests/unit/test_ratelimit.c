/*
 * Unit tests for common/ratelimit: the token bucket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ratelimit.h"

static void burst_then_refuse(void **state) {
    struct ratelimit rl;
    ratelimit_init(&rl, 3, 10, 1000);
    assert_true(ratelimit_take(&rl, 1000));
    assert_true(ratelimit_take(&rl, 1000));
    assert_true(ratelimit_take(&rl, 1000));
    assert_false(ratelimit_take(&rl, 1000));
}

static void refills_at_rate(void **state) {
    struct ratelimit rl;
    ratelimit_init(&rl, 2, 10, 0);
    assert_true(ratelimit_take(&rl, 0));
    assert_true(ratelimit_take(&rl, 0));
    assert_false(ratelimit_take(&rl, 50)); /* half a token */
    assert_true(ratelimit_take(&rl, 100)); /* one token after 100 ms */
    assert_false(ratelimit_take(&rl, 100));
}

static void never_exceeds_burst(void **state) {
    struct ratelimit rl;
    ratelimit_init(&rl, 2, 1000, 0);
    int allowed = 0;
    for (int i = 0; i < 10; i++)
        allowed += ratelimit_take(&rl, 1000000);
    assert_int_equal(allowed, 2);
}

static void clock_going_back_is_ignored(void **state) {
    struct ratelimit rl;
    ratelimit_init(&rl, 1, 1, 5000);
    assert_true(ratelimit_take(&rl, 5000));
    assert_false(ratelimit_take(&rl, 1000));
    assert_true(ratelimit_take(&rl, 6000));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_refuse),
        cmocka_unit_test(refills_at_rate),
        cmocka_unit_test(never_exceeds_burst),
        cmocka_unit_test(clock_going_back_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
