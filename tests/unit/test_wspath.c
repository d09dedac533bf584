/*
 * Unit tests for common/wspath: the endpoint path as the client sent it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

#include "wspath.h"

static int parse(const char *target, struct wspath *p) {
    return wspath_parse(target, strlen(target), p);
}

static void room_and_token(void **state) {
    struct wspath p;
    assert_int_equal(parse("/ws/webrtc/r1/abc.def", &p), WSPATH_OK);
    assert_string_equal(p.room, "r1");
    assert_int_equal(p.token_len, 7);
    assert_memory_equal(p.token, "abc.def", 7);
}

static void room_without_token(void **state) {
    struct wspath p;
    assert_int_equal(parse("/ws/webrtc/A-z_0.9", &p), WSPATH_OK);
    assert_string_equal(p.room, "A-z_0.9");
    assert_null(p.token);
    assert_int_equal(parse("/ws/webrtc/r1/", &p), WSPATH_OK);
    assert_null(p.token);
    assert_int_equal(parse("/ws/webrtc/r1?token=x", &p), WSPATH_OK);
    assert_null(p.token);
    assert_string_equal(p.room, "r1");
}

static void query_is_ignored(void **state) {
    struct wspath p;
    assert_int_equal(parse("/ws/webrtc/r1/tok?x=/y/z", &p), WSPATH_OK);
    assert_int_equal(p.token_len, 3);
}

static void room_limits(void **state) {
    struct wspath p;
    char path[300];
    strcpy(path, "/ws/webrtc/");
    memset(path + 11, 'a', 128);
    strcpy(path + 139, "/t");
    assert_int_equal(parse(path, &p), WSPATH_OK);
    assert_int_equal(strlen(p.room), 128);
    memset(path + 11, 'a', 129);
    strcpy(path + 140, "/t");
    assert_int_equal(parse(path, &p), WSPATH_BAD_ROOM);
}

static void bad_rooms_are_400(void **state) {
    static const char *const bad[] = {
        "/ws/webrtc/bad$room/t", "/ws/webrtc/r%41/t", "/ws/webrtc/r%2Fx/t", "/ws/webrtc/a b/t",
        "/ws/webrtc/./t",        "/ws/webrtc/../t",   "/ws/webrtc/é/t",
    };
    struct wspath p;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(bad[i], &p), WSPATH_BAD_ROOM);
}

static void other_shapes_are_404(void **state) {
    static const char *const bad[] = {
        "/ws/webrtc//t",        "/ws/webrtc/", "/ws/webrtc", "/ws/other/r/t",   "/ws//webrtc/r/t",
        "/ws/webrtc/r/t/extra", "/",           "",           "/ws/webrtc/r//t", "ws/webrtc/r/t",
    };
    struct wspath p;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(bad[i], &p), WSPATH_NOT_FOUND);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(room_and_token),    cmocka_unit_test(room_without_token),
        cmocka_unit_test(query_is_ignored),  cmocka_unit_test(room_limits),
        cmocka_unit_test(bad_rooms_are_400), cmocka_unit_test(other_shapes_are_404),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
