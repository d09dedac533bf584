/*
 * Unit tests for common/member: member records as stored in Redis, media
 * merging, and the sorted member list built from HGETALL-style arrays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "member.h"

static void record_full(void **state) {
    struct member m = {
        .peer_id = "alice",
        .name = "Alice",
        .role = "teacher",
        .node = "n1-4711-ab12",
        .conn = "n1-4711-ab12:17",
        .joined_at = 1760000000123,
        .seq = 3,
        .media = {.known = MEMBER_VIDEO, .on = MEMBER_VIDEO},
    };
    char *json = member_record_json(&m);
    assert_non_null(json);
    assert_string_equal(json, "{\"name\":\"Alice\",\"role\":\"teacher\",\"node\":\"n1-4711-ab12\","
                              "\"conn\":\"n1-4711-ab12:17\",\"joined_at\":1760000000123,"
                              "\"seq\":3,\"media\":{\"video\":true}}");
    free(json);
}

static void record_leaves_out_absent_fields(void **state) {
    struct member m = {.peer_id = "bob", .name = "Bob", .node = "n2", .conn = "n2:1", .seq = 1};
    char *json = member_record_json(&m);
    assert_non_null(json);
    assert_string_equal(json, "{\"name\":\"Bob\",\"node\":\"n2\",\"conn\":\"n2:1\","
                              "\"joined_at\":0,\"seq\":1}");
    free(json);
}

static void record_round_trip(void **state) {
    struct member m = {
        .peer_id = "alice",
        .name = "Al \"the\" ice \xc3\xa9",
        .role = "student",
        .node = "n1",
        .conn = "n1:5",
        .joined_at = 1760000000999,
        .seq = 42,
        .media = {.known = MEMBER_VIDEO | MEMBER_AUDIO | MEMBER_SCREEN, .on = MEMBER_AUDIO},
    };
    char *json = member_record_json(&m);
    assert_non_null(json);
    struct member back;
    assert_int_equal(member_from_record(&back, "alice", 5, json, strlen(json)), 0);
    assert_string_equal(back.peer_id, "alice");
    assert_string_equal(back.name, m.name);
    assert_string_equal(back.role, "student");
    assert_string_equal(back.node, "n1");
    assert_string_equal(back.conn, "n1:5");
    assert_int_equal(back.joined_at, 1760000000999);
    assert_int_equal(back.seq, 42);
    assert_int_equal(back.media.known, MEMBER_VIDEO | MEMBER_AUDIO | MEMBER_SCREEN);
    assert_int_equal(back.media.on, MEMBER_AUDIO);
    member_clear(&back);
    assert_null(back.peer_id);
    free(json);
}

static void from_record_minimal_and_lenient(void **state) {
    struct member m;
    /* Only "name": every optional key may be missing. peer_id is taken by
     * length, not up to a NUL. */
    const char *rec = "{\"name\":\"Carol\"}";
    assert_int_equal(member_from_record(&m, "carolXXX", 5, rec, strlen(rec)), 0);
    assert_string_equal(m.peer_id, "carol");
    assert_string_equal(m.name, "Carol");
    assert_null(m.role);
    assert_null(m.node);
    assert_null(m.conn);
    assert_int_equal(m.joined_at, 0);
    assert_int_equal(m.seq, 0);
    assert_int_equal(m.media.known, 0);
    member_clear(&m);

    /* Unknown keys ignored; cjson-style reals with integral values read as
     * integers; non-boolean media fields ignored; json_len is honoured. */
    rec = "{\"name\":\"D\",\"future\":[1,2],\"seq\":7.0,\"joined_at\":1.5e3,"
          "\"media\":{\"video\":false,\"audio\":\"yes\",\"screen_sharing\":true}}TRAILING";
    size_t len = strlen(rec) - strlen("TRAILING");
    assert_int_equal(member_from_record(&m, "d", 1, rec, len), 0);
    assert_int_equal(m.seq, 7);
    assert_int_equal(m.joined_at, 1500);
    assert_int_equal(m.media.known, MEMBER_VIDEO | MEMBER_SCREEN);
    assert_int_equal(m.media.on, MEMBER_SCREEN);
    member_clear(&m);
}

static void from_record_refuses_bad_values(void **state) {
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "\"Alice\"",
        "{}",
        "{\"name\":5}",
        "{\"name\":null}",
        "{\"role\":\"teacher\"}",
        "{\"name\":\"A\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct member m;
        memset(&m, 0xa5, sizeof(m));
        assert_int_equal(member_from_record(&m, "p", 1, bad[i], strlen(bad[i])), -1);
        /* Left zeroed. */
        assert_null(m.peer_id);
        assert_null(m.name);
        assert_int_equal(m.seq, 0);
    }
}

static void media_merge_keeps_unsent_fields(void **state) {
    struct member_media dst = {.known = MEMBER_VIDEO | MEMBER_AUDIO, .on = MEMBER_VIDEO};
    /* Turn video off, screen on; audio untouched. A stray "on" bit for a
     * field src does not know is ignored. */
    struct member_media src = {.known = MEMBER_VIDEO | MEMBER_SCREEN,
                               .on = MEMBER_SCREEN | MEMBER_AUDIO};
    member_media_merge(&dst, src);
    assert_int_equal(dst.known, MEMBER_VIDEO | MEMBER_AUDIO | MEMBER_SCREEN);
    assert_int_equal(dst.on, MEMBER_SCREEN);

    struct member_media none = {0, 0};
    member_media_merge(&dst, none);
    assert_int_equal(dst.known, MEMBER_VIDEO | MEMBER_AUDIO | MEMBER_SCREEN);
    assert_int_equal(dst.on, MEMBER_SCREEN);
}

static void media_json_only_known(void **state) {
    struct member_media media = {.known = MEMBER_AUDIO | MEMBER_SCREEN, .on = MEMBER_AUDIO};
    json_t *j = member_media_json(media);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"audio\":true,\"screen_sharing\":false}");
    free(s);
    json_decref(j);

    struct member_media none = {0, 0};
    j = member_media_json(none);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);
}

static void list_sorted_by_seq_then_peer(void **state) {
    const char *strs[] = {
        "zed",   "{\"name\":\"Z\",\"seq\":1}",
        "bob",   "{\"name\":\"B\",\"seq\":2}",
        "bad",   "{\"seq\":0}", /* no name: skipped */
        "alice", "{\"name\":\"A\",\"seq\":2}",
        "eve",   "not json", /* skipped */
        "carl",  "{\"name\":\"C\",\"seq\":0}",
    };
    size_t count = sizeof(strs) / sizeof(strs[0]);
    size_t lens[sizeof(strs) / sizeof(strs[0])];
    for (size_t i = 0; i < count; i++)
        lens[i] = strlen(strs[i]);

    struct member_list list;
    assert_int_equal(member_list_from_flat(&list, strs, lens, count), 0);
    assert_int_equal(list.n, 4);
    assert_string_equal(list.v[0].peer_id, "carl");
    assert_string_equal(list.v[1].peer_id, "zed");
    assert_string_equal(list.v[2].peer_id, "alice"); /* seq tie: by peer_id */
    assert_string_equal(list.v[3].peer_id, "bob");

    const struct member *m = member_list_find(&list, "bob");
    assert_non_null(m);
    assert_string_equal(m->name, "B");
    assert_null(member_list_find(&list, "eve"));
    assert_null(member_list_find(&list, "bad"));
    assert_null(member_list_find(&list, NULL));
    member_list_clear(&list);
    assert_null(list.v);
    assert_int_equal(list.n, 0);
    member_list_clear(&list); /* clearing twice is harmless */
}

static void list_empty_and_odd(void **state) {
    struct member_list list;
    assert_int_equal(member_list_from_flat(&list, NULL, NULL, 0), 0);
    assert_null(list.v);
    assert_int_equal(list.n, 0);
    assert_null(member_list_find(&list, "x"));
    member_list_clear(&list);

    /* A trailing string without its record is ignored. */
    const char *strs[] = {"a", "{\"name\":\"A\",\"seq\":1}", "orphan"};
    size_t lens[] = {1, strlen(strs[1]), 6};
    assert_int_equal(member_list_from_flat(&list, strs, lens, 3), 0);
    assert_int_equal(list.n, 1);
    assert_string_equal(list.v[0].peer_id, "a");
    member_list_clear(&list);

    assert_int_equal(member_list_from_flat(&list, strs, lens, 1), 0);
    assert_int_equal(list.n, 0);

    /* Nothing parses: an empty list, not an error. */
    const char *junk[] = {"a", "x", "b", "[]"};
    size_t junk_lens[] = {1, 1, 1, 2};
    assert_int_equal(member_list_from_flat(&list, junk, junk_lens, 4), 0);
    assert_int_equal(list.n, 0);
    assert_null(list.v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_full),
        cmocka_unit_test(record_leaves_out_absent_fields),
        cmocka_unit_test(record_round_trip),
        cmocka_unit_test(from_record_minimal_and_lenient),
        cmocka_unit_test(from_record_refuses_bad_values),
        cmocka_unit_test(media_merge_keeps_unsent_fields),
        cmocka_unit_test(media_json_only_known),
        cmocka_unit_test(list_sorted_by_seq_then_peer),
        cmocka_unit_test(list_empty_and_odd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
