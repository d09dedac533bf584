/*
 * Unit tests for common/dynbuf: the bounded reassembly buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

#include "dynbuf.h"

static void appends_and_grows(void **state) {
    struct dynbuf b = {0};
    char chunk[700];
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 10; i++)
        assert_int_equal(dynbuf_append(&b, chunk, sizeof(chunk), 65536), 0);
    assert_int_equal(b.len, 7000);
    assert_true(b.cap >= 7000);
    assert_int_equal(b.p[6999], 'x');
    dynbuf_free(&b);
}

static void maximum_is_exact(void **state) {
    struct dynbuf b = {0};
    char chunk[100] = {0};
    assert_int_equal(dynbuf_append(&b, chunk, 100, 250), 0);
    assert_int_equal(dynbuf_append(&b, chunk, 100, 250), 0);
    assert_int_equal(dynbuf_append(&b, chunk, 51, 250), -1);
    assert_int_equal(b.len, 200); /* unchanged by the refusal */
    assert_int_equal(dynbuf_append(&b, chunk, 50, 250), 0);
    assert_int_equal(b.len, 250);
    assert_true(b.cap <= 250);
    assert_int_equal(dynbuf_append(&b, chunk, 1, 250), -1);
    dynbuf_free(&b);
}

static void huge_append_does_not_overflow(void **state) {
    struct dynbuf b = {0};
    char c = 'a';
    assert_int_equal(dynbuf_append(&b, &c, 1, 10), 0);
    assert_int_equal(dynbuf_append(&b, &c, (size_t)-1, 10), -1);
    dynbuf_free(&b);
}

static void reset_keeps_small_frees_large(void **state) {
    struct dynbuf b = {0};
    char chunk[5000] = {0};
    assert_int_equal(dynbuf_append(&b, chunk, 100, 65536), 0);
    dynbuf_reset(&b, 4096);
    assert_int_equal(b.len, 0);
    assert_non_null(b.p);
    assert_int_equal(dynbuf_append(&b, chunk, 5000, 65536), 0);
    dynbuf_reset(&b, 4096);
    assert_null(b.p);
    assert_int_equal(b.cap, 0);
    dynbuf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(appends_and_grows),
        cmocka_unit_test(maximum_is_exact),
        cmocka_unit_test(huge_append_does_not_overflow),
        cmocka_unit_test(reset_keeps_small_frees_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
