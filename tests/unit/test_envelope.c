/*
 * Unit tests for common/envelope: round trips of what envelope_encode
 * packs, decoding membership envelopes packed the way Redis' Lua cmsgpack
 * packs them, and refusal of malformed, truncated and hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "envelope.h"

/* ---- Packing helpers for hand-made envelopes ---- */

struct packed {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
};

static void packed_init(struct packed *p) {
    msgpack_sbuffer_init(&p->sbuf);
    msgpack_packer_init(&p->pk, &p->sbuf, msgpack_sbuffer_write);
}

static void pack_s(struct packed *p, const char *s) {
    size_t n = strlen(s);
    assert_int_equal(msgpack_pack_str(&p->pk, n), 0);
    assert_int_equal(msgpack_pack_str_body(&p->pk, s, n), 0);
}

static void pack_kv(struct packed *p, const char *key, const char *value) {
    pack_s(p, key);
    pack_s(p, value);
}

static void pack_ki(struct packed *p, const char *key, int64_t value) {
    pack_s(p, key);
    assert_int_equal(msgpack_pack_int64(&p->pk, value), 0);
}

/* Asserts that decoding fails and leaves the envelope zeroed. The bytes go
 * through an exact-size heap copy so that ASan sees any read past len. */
static void assert_refused(const char *buf, size_t len) {
    char *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0)
        memcpy(copy, buf, len);
    struct envelope e;
    memset(&e, 0xa5, sizeof(e));
    assert_int_equal(envelope_decode(copy, len, &e), -1);
    assert_null(e.origin);
    assert_null(e.room);
    assert_null(e.peer);
    assert_null(e.body);
    assert_null(e.members);
    assert_int_equal(e.member_count, 0);
    free(copy);
}

static void assert_packed_refused(struct packed *p) {
    assert_refused(p->sbuf.data, p->sbuf.size);
    msgpack_sbuffer_destroy(&p->sbuf);
}

/* ---- Round trips ---- */

static void signal_round_trip(void **state) {
    /* The body may hold any bytes, a NUL included. */
    static const char body[] = "{\"type\":\"offer\",\"from_peer\":\"alice\"}\0tail";
    struct envelope in = {
        .kind = ENVELOPE_SIGNAL,
        .origin = "n1-4711-ab12",
        .room = "r1",
        .peer = "alice",
        .target = "bob",
        .body = (char *)body,
        .body_len = sizeof(body) - 1,
        .ts_us = 1760000000123456,
    };
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(envelope_encode(&in, &buf, &len), 0);
    assert_non_null(buf);

    struct envelope out;
    assert_int_equal(envelope_decode(buf, len, &out), 0);
    assert_int_equal(out.kind, ENVELOPE_SIGNAL);
    assert_string_equal(out.origin, "n1-4711-ab12");
    assert_string_equal(out.room, "r1");
    assert_string_equal(out.peer, "alice");
    assert_string_equal(out.target, "bob");
    assert_int_equal(out.body_len, sizeof(body) - 1);
    assert_memory_equal(out.body, body, sizeof(body) - 1);
    assert_int_equal(out.body[out.body_len], '\0');
    assert_int_equal(out.ts_us, 1760000000123456);
    assert_null(out.conn);
    assert_null(out.members);
    assert_false(out.reconnected);
    envelope_clear(&out);
    assert_null(out.origin);
    envelope_clear(&out); /* twice is harmless */

    /* The encoding is one map of exactly the documented keys. */
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&up, buf, len, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, len);
    assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(up.data.via.map.size, 8); /* v k o r p t b ts */
    msgpack_unpacked_destroy(&up);
    free(buf);
}

static void broadcast_round_trip(void **state) {
    const char *body = "{\"type\":\"chat\",\"content\":\"h\xc3\xa9\"}";
    struct envelope in = {
        .kind = ENVELOPE_BROADCAST,
        .origin = "n2",
        .room = "room.with-chars_1",
        .peer = "carol",
        .body = (char *)body,
        .body_len = strlen(body),
    };
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(envelope_encode(&in, &buf, &len), 0);

    struct envelope out;
    assert_int_equal(envelope_decode(buf, len, &out), 0);
    assert_int_equal(out.kind, ENVELOPE_BROADCAST);
    assert_string_equal(out.origin, "n2");
    assert_string_equal(out.room, "room.with-chars_1");
    assert_string_equal(out.peer, "carol");
    assert_null(out.target);
    assert_string_equal(out.body, body);
    assert_int_equal(out.ts_us, 0);
    envelope_clear(&out);

    /* No target and no ts: six keys. */
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&up, buf, len, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(up.data.via.map.size, 6);
    msgpack_unpacked_destroy(&up);

    /* Every shorter prefix is refused. */
    for (size_t n = 0; n < len; n++)
        assert_refused(buf, n);
    free(buf);
}

static void encode_refuses_incomplete(void **state) {
    char *buf = (char *)"sentinel";
    size_t len = 99;
    struct envelope e = {.kind = ENVELOPE_SIGNAL,
                         .origin = "n1",
                         .room = "r",
                         .peer = "a",
                         .body = "{}",
                         .body_len = 2};
    assert_int_equal(envelope_encode(&e, &buf, &len), -1); /* SIGNAL without target */
    assert_null(buf);
    assert_int_equal(len, 0);

    e.kind = ENVELOPE_BROADCAST;
    e.body = NULL;
    assert_int_equal(envelope_encode(&e, &buf, &len), -1);
    e.body = "{}";
    e.origin = NULL;
    assert_int_equal(envelope_encode(&e, &buf, &len), -1);
    e.origin = "n1";
    e.kind = ENVELOPE_JOINED; /* packed by the Lua scripts only */
    assert_int_equal(envelope_encode(&e, &buf, &len), -1);
    e.kind = ENVELOPE_BROADCAST;
    assert_int_equal(envelope_encode(&e, &buf, &len), 0);
    free(buf);
}

/* ---- Envelopes as Redis' cmsgpack packs them ---- */

static const char *const record_a = "{\"name\":\"Alice\",\"seq\":1}";
static const char *const record_b = "{\"name\":\"Bob\",\"seq\":2}";

static void pack_joined(struct packed *p) {
    packed_init(p);
    msgpack_pack_map(&p->pk, 9);
    pack_ki(p, "v", 1);
    pack_ki(p, "k", ENVELOPE_JOINED);
    pack_kv(p, "o", "n1-4711-ab12");
    pack_kv(p, "r", "r1");
    pack_kv(p, "p", "bob");
    pack_kv(p, "c", "n1-4711-ab12:17");
    pack_ki(p, "ver", 300); /* uint16 on the wire */
    pack_s(p, "rc");
    msgpack_pack_true(&p->pk);
    pack_s(p, "m");
    msgpack_pack_array(&p->pk, 4);
    pack_s(p, "alice");
    pack_s(p, record_a);
    pack_s(p, "bob");
    pack_s(p, record_b);
}

static void joined_from_lua(void **state) {
    struct packed p;
    pack_joined(&p);
    struct envelope e;
    assert_int_equal(envelope_decode(p.sbuf.data, p.sbuf.size, &e), 0);
    assert_int_equal(e.kind, ENVELOPE_JOINED);
    assert_string_equal(e.origin, "n1-4711-ab12");
    assert_string_equal(e.room, "r1");
    assert_string_equal(e.peer, "bob");
    assert_string_equal(e.conn, "n1-4711-ab12:17");
    assert_int_equal(e.ver, 300);
    assert_true(e.reconnected);
    assert_null(e.body);
    assert_null(e.target);
    assert_int_equal(e.member_count, 4);
    assert_string_equal(e.members[0], "alice");
    assert_int_equal(e.member_lens[0], 5);
    assert_string_equal(e.members[1], record_a);
    assert_int_equal(e.member_lens[1], strlen(record_a));
    assert_string_equal(e.members[2], "bob");
    assert_string_equal(e.members[3], record_b);
    envelope_clear(&e);

    /* Truncated at every length: refused, and (under ASan) nothing leaks. */
    for (size_t n = 0; n < p.sbuf.size; n++)
        assert_refused(p.sbuf.data, n);

    /* One byte too many: refused. */
    msgpack_pack_nil(&p.pk);
    assert_packed_refused(&p);
}

static void left_with_lua_number_forms(void **state) {
    /* Lua numbers that are not integral get packed as floats; integral
     * floats are accepted. Keys as bin, rc as an integer, an empty table
     * packed as a map, and unknown keys (nested) are all fine. */
    struct packed p;
    packed_init(&p);
    msgpack_pack_map(&p.pk, 8);
    pack_s(&p, "v");
    msgpack_pack_double(&p.pk, 1.0);
    pack_s(&p, "k");
    msgpack_pack_float(&p.pk, 4.0f);
    msgpack_pack_bin(&p.pk, 1);
    msgpack_pack_bin_body(&p.pk, "o", 1);
    msgpack_pack_bin(&p.pk, 2);
    msgpack_pack_bin_body(&p.pk, "n2", 2);
    pack_kv(&p, "r", "r1");
    pack_kv(&p, "p", "alice");
    pack_s(&p, "ver");
    msgpack_pack_double(&p.pk, 7.0);
    pack_s(&p, "m");
    msgpack_pack_map(&p.pk, 0);
    pack_s(&p, "future");
    msgpack_pack_map(&p.pk, 1);
    pack_s(&p, "x");
    msgpack_pack_array(&p.pk, 2);
    msgpack_pack_nil(&p.pk);
    msgpack_pack_double(&p.pk, 0.5);

    struct envelope e;
    assert_int_equal(envelope_decode(p.sbuf.data, p.sbuf.size, &e), 0);
    assert_int_equal(e.kind, ENVELOPE_LEFT);
    assert_string_equal(e.origin, "n2");
    assert_string_equal(e.peer, "alice");
    assert_int_equal(e.ver, 7);
    assert_false(e.reconnected);
    assert_int_equal(e.member_count, 0);
    assert_null(e.members);
    envelope_clear(&e);
    msgpack_sbuffer_destroy(&p.sbuf);

    /* rc as integer 1, m as an empty array, ts negative, bin values. */
    packed_init(&p);
    msgpack_pack_map(&p.pk, 8);
    pack_ki(&p, "v", 1);
    pack_ki(&p, "k", ENVELOPE_JOINED);
    pack_kv(&p, "o", "n1");
    pack_kv(&p, "r", "r1");
    pack_s(&p, "p");
    msgpack_pack_bin(&p.pk, 3);
    msgpack_pack_bin_body(&p.pk, "bob", 3);
    pack_ki(&p, "rc", 1);
    pack_s(&p, "m");
    msgpack_pack_array(&p.pk, 0);
    pack_ki(&p, "ts", -5);
    assert_int_equal(envelope_decode(p.sbuf.data, p.sbuf.size, &e), 0);
    assert_string_equal(e.peer, "bob");
    assert_true(e.reconnected);
    assert_int_equal(e.ts_us, -5);
    envelope_clear(&e);
    msgpack_sbuffer_destroy(&p.sbuf);
}

/* ---- Refusals ---- */

/* Packs a BROADCAST with one field changed by `mutate`. */
enum mutation {
    MUT_NONE,
    MUT_VERSION_2,
    MUT_VERSION_0,
    MUT_VERSION_FLOAT,
    MUT_NO_VERSION,
    MUT_VERSION_STR,
    MUT_KIND_0,
    MUT_KIND_5,
    MUT_NO_KIND,
    MUT_NO_ORIGIN,
    MUT_NO_ROOM,
    MUT_NO_PEER,
    MUT_NO_BODY,
    MUT_ORIGIN_INT,
    MUT_ROOM_NIL,
    MUT_BODY_ARRAY,
    MUT_DUP_ROOM,
    MUT_TS_STR,
    MUT_TS_HUGE,
    MUT_RC_STR,
    MUT_RC_2,
    MUT_VER_STR,
    MUT_M_STR,
    MUT_M_INT_ITEM,
    MUT_M_NONEMPTY_MAP,
    MUT_COUNT
};

static void pack_mutated(struct packed *p, enum mutation mut) {
    packed_init(p);
    size_t n = 6;
    if (mut == MUT_NO_VERSION || mut == MUT_NO_KIND || mut == MUT_NO_ORIGIN || mut == MUT_NO_ROOM ||
        mut == MUT_NO_PEER || mut == MUT_NO_BODY)
        n--;
    if (mut == MUT_DUP_ROOM || mut == MUT_TS_STR || mut == MUT_TS_HUGE || mut == MUT_RC_STR ||
        mut == MUT_RC_2 || mut == MUT_VER_STR || mut == MUT_M_STR || mut == MUT_M_INT_ITEM ||
        mut == MUT_M_NONEMPTY_MAP)
        n++;
    msgpack_pack_map(&p->pk, n);

    switch (mut) {
    case MUT_NO_VERSION:
        break;
    case MUT_VERSION_2:
        pack_ki(p, "v", 2);
        break;
    case MUT_VERSION_0:
        pack_ki(p, "v", 0);
        break;
    case MUT_VERSION_FLOAT:
        pack_s(p, "v");
        msgpack_pack_double(&p->pk, 1.5);
        break;
    case MUT_VERSION_STR:
        pack_kv(p, "v", "1");
        break;
    default:
        pack_ki(p, "v", 1);
    }
    if (mut == MUT_KIND_0)
        pack_ki(p, "k", 0);
    else if (mut == MUT_KIND_5)
        pack_ki(p, "k", 5);
    else if (mut != MUT_NO_KIND)
        pack_ki(p, "k", ENVELOPE_BROADCAST);
    if (mut == MUT_ORIGIN_INT)
        pack_ki(p, "o", 1);
    else if (mut != MUT_NO_ORIGIN)
        pack_kv(p, "o", "n1");
    if (mut == MUT_ROOM_NIL) {
        pack_s(p, "r");
        msgpack_pack_nil(&p->pk);
    } else if (mut != MUT_NO_ROOM) {
        pack_kv(p, "r", "r1");
    }
    if (mut != MUT_NO_PEER)
        pack_kv(p, "p", "alice");
    if (mut == MUT_BODY_ARRAY) {
        pack_s(p, "b");
        msgpack_pack_array(&p->pk, 1);
        pack_s(p, "{}");
    } else if (mut != MUT_NO_BODY) {
        pack_kv(p, "b", "{}");
    }

    switch (mut) {
    case MUT_DUP_ROOM:
        pack_kv(p, "r", "r2");
        break;
    case MUT_TS_STR:
        pack_kv(p, "ts", "123");
        break;
    case MUT_TS_HUGE:
        pack_s(p, "ts");
        msgpack_pack_uint64(&p->pk, UINT64_MAX);
        break;
    case MUT_RC_STR:
        pack_kv(p, "rc", "true");
        break;
    case MUT_RC_2:
        pack_ki(p, "rc", 2);
        break;
    case MUT_VER_STR:
        pack_kv(p, "ver", "3");
        break;
    case MUT_M_STR:
        pack_kv(p, "m", "alice");
        break;
    case MUT_M_INT_ITEM:
        pack_s(p, "m");
        msgpack_pack_array(&p->pk, 2);
        pack_s(p, "alice");
        msgpack_pack_int(&p->pk, 5);
        break;
    case MUT_M_NONEMPTY_MAP:
        pack_s(p, "m");
        msgpack_pack_map(&p->pk, 1);
        pack_kv(p, "alice", record_a);
        break;
    default:
        break;
    }
}

static void refuses_bad_fields(void **state) {
    /* The unmutated envelope decodes, so each refusal below is down to its
     * one change. */
    struct packed p;
    pack_mutated(&p, MUT_NONE);
    struct envelope e;
    assert_int_equal(envelope_decode(p.sbuf.data, p.sbuf.size, &e), 0);
    envelope_clear(&e);
    msgpack_sbuffer_destroy(&p.sbuf);

    for (int mut = MUT_NONE + 1; mut < MUT_COUNT; mut++) {
        pack_mutated(&p, (enum mutation)mut);
        char *copy = malloc(p.sbuf.size);
        memcpy(copy, p.sbuf.data, p.sbuf.size);
        memset(&e, 0, sizeof(e));
        int rc = envelope_decode(copy, p.sbuf.size, &e);
        if (rc != -1)
            fail_msg("mutation %d was accepted", mut);
        assert_null(e.origin);
        free(copy);
        msgpack_sbuffer_destroy(&p.sbuf);
    }
}

static void refuses_signal_without_target_or_body(void **state) {
    struct packed p;
    packed_init(&p);
    msgpack_pack_map(&p.pk, 6);
    pack_ki(&p, "v", 1);
    pack_ki(&p, "k", ENVELOPE_SIGNAL);
    pack_kv(&p, "o", "n1");
    pack_kv(&p, "r", "r1");
    pack_kv(&p, "p", "alice");
    pack_kv(&p, "b", "{}");
    assert_packed_refused(&p);

    packed_init(&p);
    msgpack_pack_map(&p.pk, 6);
    pack_ki(&p, "v", 1);
    pack_ki(&p, "k", ENVELOPE_SIGNAL);
    pack_kv(&p, "o", "n1");
    pack_kv(&p, "r", "r1");
    pack_kv(&p, "p", "alice");
    pack_kv(&p, "t", "bob");
    assert_packed_refused(&p);

    /* JOINED needs a peer too. */
    packed_init(&p);
    msgpack_pack_map(&p.pk, 4);
    pack_ki(&p, "v", 1);
    pack_ki(&p, "k", ENVELOPE_JOINED);
    pack_kv(&p, "o", "n1");
    pack_kv(&p, "r", "r1");
    assert_packed_refused(&p);
}

static void refuses_other_top_levels(void **state) {
    struct packed p;
    packed_init(&p);
    msgpack_pack_array(&p.pk, 2);
    pack_s(&p, "v");
    pack_ki(&p, "x", 1);
    assert_packed_refused(&p);

    packed_init(&p);
    pack_s(&p, "hello");
    assert_packed_refused(&p);

    packed_init(&p);
    msgpack_pack_nil(&p.pk);
    assert_packed_refused(&p);

    packed_init(&p);
    msgpack_pack_map(&p.pk, 0);
    assert_packed_refused(&p);

    /* Two complete envelopes back to back are trailing bytes, not two. */
    struct envelope in = {.kind = ENVELOPE_BROADCAST,
                          .origin = "n",
                          .room = "r",
                          .peer = "p",
                          .body = "{}",
                          .body_len = 2};
    char *buf;
    size_t len;
    assert_int_equal(envelope_encode(&in, &buf, &len), 0);
    char *twice = malloc(2 * len);
    memcpy(twice, buf, len);
    memcpy(twice + len, buf, len);
    assert_refused(twice, 2 * len);
    free(twice);
    free(buf);

    struct envelope e;
    assert_int_equal(envelope_decode(NULL, 0, &e), -1);
}

static void refuses_lying_lengths(void **state) {
    /* Headers declaring far more than the input holds: refused without
     * trying to allocate what they claim. */
    static const unsigned char huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const unsigned char huge_map[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'v', 0x01};
    static const unsigned char huge_str[] = {0x81, 0xa1, 'b', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x'};
    static const unsigned char huge_bin[] = {0x81, 0xa1, 'b', 0xc6, 0x7f, 0xff, 0xff, 0xff, 'x'};
    static const unsigned char huge_ext[] = {0x81, 0xa1, 'z', 0xc9, 0xff, 0xff, 0xff, 0xff, 1};
    static const unsigned char m_array[] = {0x82, 0xa1, 'm',  0xdd, 0x00, 0x10,
                                            0x00, 0x00, 0xa1, 'x',  0xa0, 0xa0};
    static const unsigned char reserved[] = {0x81, 0xa1, 'v', 0xc1};
    static const unsigned char nested_maps[] = {0x81, 0xa1, 'z', 0x81, 0xa1, 'z',
                                                0x81, 0xa1, 'z', 0x81, 0xa1, 'z'};
    assert_refused((const char *)huge_array, sizeof(huge_array));
    assert_refused((const char *)huge_map, sizeof(huge_map));
    assert_refused((const char *)huge_str, sizeof(huge_str));
    assert_refused((const char *)huge_bin, sizeof(huge_bin));
    assert_refused((const char *)huge_ext, sizeof(huge_ext));
    assert_refused((const char *)m_array, sizeof(m_array));
    assert_refused((const char *)reserved, sizeof(reserved));
    assert_refused((const char *)nested_maps, sizeof(nested_maps));

    /* Nesting deeper than msgpack-c's stack: refused, not a crash. */
    unsigned char deep[200];
    memset(deep, 0x91, sizeof(deep) - 1); /* [[[[...]]]] */
    deep[sizeof(deep) - 1] = 0xc0;
    assert_refused((const char *)deep, sizeof(deep));
}

static void survives_garbage(void **state) {
    /* Deterministic pseudo-random bytes, and the valid envelope with single
     * bytes flipped: whatever happens, no crash and no leak. */
    uint32_t x = 12345;
    unsigned char buf[256];
    for (int round = 0; round < 5000; round++) {
        size_t len = (size_t)(round % (int)sizeof(buf));
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (unsigned char)(x >> 16);
        }
        struct envelope e;
        if (envelope_decode((const char *)buf, len, &e) == 0)
            envelope_clear(&e);
    }

    struct packed p;
    pack_joined(&p);
    for (size_t i = 0; i < p.sbuf.size; i++) {
        for (int bit = 0; bit < 8; bit++) {
            char *copy = malloc(p.sbuf.size);
            memcpy(copy, p.sbuf.data, p.sbuf.size);
            copy[i] ^= (char)(1u << bit);
            struct envelope e;
            if (envelope_decode(copy, p.sbuf.size, &e) == 0)
                envelope_clear(&e);
            free(copy);
        }
    }
    msgpack_sbuffer_destroy(&p.sbuf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signal_round_trip),
        cmocka_unit_test(broadcast_round_trip),
        cmocka_unit_test(encode_refuses_incomplete),
        cmocka_unit_test(joined_from_lua),
        cmocka_unit_test(left_with_lua_number_forms),
        cmocka_unit_test(refuses_bad_fields),
        cmocka_unit_test(refuses_signal_without_target_or_body),
        cmocka_unit_test(refuses_other_top_levels),
        cmocka_unit_test(refuses_lying_lengths),
        cmocka_unit_test(survives_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
