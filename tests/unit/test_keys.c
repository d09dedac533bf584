/*
 * Unit tests for common/keys: Redis key and channel names, the cap
 * boundary of every builder, and room id validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"

static void room_keys_use_hash_tag(void **state) {
    char buf[KEYS_MAX];
    assert_int_equal(keys_room_members(buf, sizeof(buf), "r1"), strlen("signald:{r1}:members"));
    assert_string_equal(buf, "signald:{r1}:members");
    assert_int_equal(keys_room_version(buf, sizeof(buf), "r1"), strlen("signald:{r1}:ver"));
    assert_string_equal(buf, "signald:{r1}:ver");
    assert_int_equal(keys_room_channel(buf, sizeof(buf), "r1"), strlen("signald:{r1}:room"));
    assert_string_equal(buf, "signald:{r1}:room");
    assert_int_equal(keys_peer_channel(buf, sizeof(buf), "r1", "alice"),
                     strlen("signald:{r1}:peer:alice"));
    assert_string_equal(buf, "signald:{r1}:peer:alice");
}

static void node_keys(void **state) {
    char buf[KEYS_MAX];
    assert_int_equal(keys_node_lease(buf, sizeof(buf), "n1-4711-ab12"),
                     strlen("signald:node:n1-4711-ab12"));
    assert_string_equal(buf, "signald:node:n1-4711-ab12");
    assert_int_equal(keys_node_members(buf, sizeof(buf), "n1"), strlen("signald:node:n1:members"));
    assert_string_equal(buf, "signald:node:n1:members");
    assert_int_equal(keys_nodes(buf, sizeof(buf)), strlen("signald:nodes"));
    assert_string_equal(buf, "signald:nodes");
    assert_int_equal(keys_node_dead(buf, sizeof(buf), "n1"), strlen("signald:node:n1:dead"));
    assert_string_equal(buf, "signald:node:n1:dead");
    assert_int_equal(keys_node_reaping(buf, sizeof(buf), "n1"), strlen("signald:node:n1:reaping"));
    assert_string_equal(buf, "signald:node:n1:reaping");
    assert_int_equal(keys_node_channel(buf, sizeof(buf), "n1"), strlen("signald:node:n1:hb"));
    assert_string_equal(buf, "signald:node:n1:hb");
    /* The sweep script builds the same names from the parts. */
    assert_string_equal(KEYS_NODE_PREFIX "n1" KEYS_NODE_MEMBERS_SUFFIX, "signald:node:n1:members");
}

/* "signald:{r1}:members" is 20 bytes: it fits in 21 (with the NUL), not 20. */
static void cap_boundary_is_exact(void **state) {
    char buf[32];
    assert_int_equal(keys_room_members(buf, 21, "r1"), 20);
    assert_string_equal(buf, "signald:{r1}:members");
    assert_int_equal(keys_room_members(buf, 20, "r1"), -1);
    assert_int_equal(keys_room_members(buf, 1, "r1"), -1);
    assert_int_equal(keys_room_members(buf, 0, "r1"), -1);

    /* "signald:nodes" is 13 bytes. */
    assert_int_equal(keys_nodes(buf, 14), 13);
    assert_int_equal(keys_nodes(buf, 13), -1);

    /* "signald:{r}:peer:p" is 18 bytes. */
    assert_int_equal(keys_peer_channel(buf, 19, "r", "p"), 18);
    assert_int_equal(keys_peer_channel(buf, 18, "r", "p"), -1);

    /* "signald:node:n:members" is 22 bytes. */
    assert_int_equal(keys_node_members(buf, 23, "n"), 22);
    assert_int_equal(keys_node_members(buf, 22, "n"), -1);
    assert_int_equal(keys_node_lease(buf, 15, "n"), 14);
    assert_int_equal(keys_node_lease(buf, 14, "n"), -1);
    assert_int_equal(keys_room_version(buf, 17, "r"), 15);
    assert_int_equal(keys_room_version(buf, 16, "r"), 15);
    assert_int_equal(keys_room_version(buf, 15, "r"), -1);
    assert_int_equal(keys_room_channel(buf, 17, "r"), 16);
    assert_int_equal(keys_room_channel(buf, 16, "r"), -1);
}

/* KEYS_MAX holds the longest peer channel: 128-byte room and peer ids. */
static void keys_max_holds_longest_names(void **state) {
    char room[129], peer[129], buf[KEYS_MAX];
    memset(room, 'r', 128);
    room[128] = '\0';
    memset(peer, 'p', 128);
    peer[128] = '\0';
    int n = keys_peer_channel(buf, sizeof(buf), room, peer);
    assert_int_equal(n, strlen("signald:{}:peer:") + 256);
    assert_int_equal(strlen(buf), (size_t)n);
}

static void null_parts_are_refused(void **state) {
    char buf[KEYS_MAX];
    assert_int_equal(keys_room_members(buf, sizeof(buf), NULL), -1);
    assert_int_equal(keys_peer_channel(buf, sizeof(buf), "r", NULL), -1);
    assert_int_equal(keys_node_lease(buf, sizeof(buf), NULL), -1);
}

static void room_validation(void **state) {
    assert_true(keys_room_valid("r1", 2));
    assert_true(keys_room_valid("Az09_-.", 7));
    assert_true(keys_room_valid("a", 1));

    char longest[129];
    memset(longest, 'x', sizeof(longest));
    assert_true(keys_room_valid(longest, 128));
    assert_false(keys_room_valid(longest, 129));

    assert_false(keys_room_valid("", 0));
    assert_false(keys_room_valid(NULL, 0));
    assert_false(keys_room_valid("a b", 3));
    assert_false(keys_room_valid("a/b", 3));
    assert_false(keys_room_valid("a{b", 3));
    assert_false(keys_room_valid("a}b", 3));
    assert_false(keys_room_valid("a%20", 4));
    assert_false(keys_room_valid("caf\xc3\xa9", 5));
    /* len is authoritative: an embedded NUL is a bad byte, not the end. */
    assert_false(keys_room_valid("ab\0c", 4));
    assert_true(keys_room_valid("ab\0c", 2));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(room_keys_use_hash_tag), cmocka_unit_test(node_keys),
        cmocka_unit_test(cap_boundary_is_exact),  cmocka_unit_test(keys_max_holds_longest_names),
        cmocka_unit_test(null_parts_are_refused), cmocka_unit_test(room_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
