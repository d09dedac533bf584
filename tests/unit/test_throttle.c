/*
 * Unit tests for common/throttle: failed attempts per source address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "throttle.h"

static void unknown_address_is_allowed(void **state) {
    struct throttle t;
    throttle_init(&t, 3, 1, 100);
    assert_true(throttle_allowed(&t, "10.0.0.1", 0));
    assert_int_equal(t.n, 0);
    throttle_free(&t);
}

static void burst_of_failures_blocks_only_that_address(void **state) {
    struct throttle t;
    throttle_init(&t, 3, 1, 100);
    for (int i = 0; i < 3; i++) {
        assert_true(throttle_allowed(&t, "10.0.0.1", 1000));
        throttle_failed(&t, "10.0.0.1", 1000);
    }
    assert_false(throttle_allowed(&t, "10.0.0.1", 1000));
    assert_true(throttle_allowed(&t, "10.0.0.2", 1000));
    /* One token back after a second at one per second. */
    assert_false(throttle_allowed(&t, "10.0.0.1", 1999));
    assert_true(throttle_allowed(&t, "10.0.0.1", 2000));
    throttle_free(&t);
}

static void sweep_forgets_refilled_addresses(void **state) {
    struct throttle t;
    throttle_init(&t, 2, 1, 100);
    throttle_failed(&t, "a", 0);
    throttle_failed(&t, "b", 0);
    throttle_failed(&t, "b", 0);
    assert_int_equal(t.n, 2);
    throttle_sweep(&t, 1000); /* "a" is full again, "b" has one of two */
    assert_int_equal(t.n, 1);
    throttle_sweep(&t, 2000);
    assert_int_equal(t.n, 0);
    throttle_free(&t);
}

static void entries_are_bounded(void **state) {
    struct throttle t;
    char addr[16];
    throttle_init(&t, 1, 1, 10);
    for (int i = 0; i < 50; i++) {
        snprintf(addr, sizeof(addr), "10.0.0.%d", i);
        throttle_failed(&t, addr, 0);
    }
    assert_int_equal(t.n, 10);
    /* Past the bound an address is not tracked, so not blocked. */
    assert_true(throttle_allowed(&t, "10.0.0.49", 0));
    assert_false(throttle_allowed(&t, "10.0.0.0", 0));
    throttle_free(&t);
}

static void long_address_is_cut_consistently(void **state) {
    struct throttle t;
    char addr[200];
    throttle_init(&t, 1, 1, 10);
    memset(addr, 'x', sizeof(addr) - 1);
    addr[sizeof(addr) - 1] = '\0';
    throttle_failed(&t, addr, 0);
    assert_false(throttle_allowed(&t, addr, 0));
    throttle_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_address_is_allowed),
        cmocka_unit_test(burst_of_failures_blocks_only_that_address),
        cmocka_unit_test(sweep_forgets_refilled_addresses),
        cmocka_unit_test(entries_are_bounded),
        cmocka_unit_test(long_address_is_cut_consistently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
