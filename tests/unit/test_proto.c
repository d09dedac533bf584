/*
 * Unit tests for common/proto: decoding and validating client frames (a
 * table of hostile inputs covers every error path) and the exact JSON of
 * every server frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

#define WHY_LEN 256

/* Asserts that the frame s (len bytes) parses to the same JSON as expected,
 * whatever the key order. */
static void assert_json_equal(const char *s, size_t len, const char *expected) {
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    json_t *got = json_loads(s, 0, NULL);
    json_t *want = json_loads(expected, 0, NULL);
    assert_non_null(got);
    assert_non_null(want);
    if (!json_equal(got, want))
        fail_msg("got %s, expected %s", s, expected);
    json_decref(got);
    json_decref(want);
}

/* A member list from peer/record pairs. */
static void make_members(struct member_list *list, const char *const *strs, size_t count) {
    size_t lens[16];
    assert_true(count <= 16);
    for (size_t i = 0; i < count; i++)
        lens[i] = strlen(strs[i]);
    assert_int_equal(member_list_from_flat(list, strs, lens, count), 0);
}

/* ---- Decoding: accepted frames ---- */

static void decode_offer(void **state) {
    const char *in = "{\"type\":\"offer\",\"target\":\"bob\",\"sdp\":\"v=0\"}";
    struct proto_msg msg;
    char why[WHY_LEN];
    assert_int_equal(proto_decode(in, strlen(in), "alice", &msg, why, sizeof(why)), PROTO_OK);
    assert_int_equal(msg.type, PROTO_OFFER);
    assert_string_equal(msg.target, "bob");
    assert_non_null(msg.root);
    proto_msg_clear(&msg);
    assert_null(msg.root);
    proto_msg_clear(&msg); /* twice is harmless */

    /* answer and ice_candidate use the same rule; self may be NULL. */
    in = "{\"target\":\"x\",\"type\":\"ice_candidate\",\"candidate\":{\"sdpMid\":\"0\"}}";
    assert_int_equal(proto_decode(in, strlen(in), NULL, &msg, why, sizeof(why)), PROTO_OK);
    assert_int_equal(msg.type, PROTO_ICE_CANDIDATE);
    assert_string_equal(msg.target, "x");
    proto_msg_clear(&msg);
    in = "{\"type\":\"answer\",\"target\":\"alice2\"}";
    assert_int_equal(proto_decode(in, strlen(in), "alice", &msg, why, sizeof(why)), PROTO_OK);
    assert_int_equal(msg.type, PROTO_ANSWER);
    proto_msg_clear(&msg);
}

static void decode_media_state(void **state) {
    const char *in = "{\"type\":\"media_state\",\"video\":true,\"screen_sharing\":false}";
    struct proto_msg msg;
    char why[WHY_LEN];
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, why, sizeof(why)), PROTO_OK);
    assert_int_equal(msg.type, PROTO_MEDIA_STATE);
    assert_int_equal(msg.media.known, MEMBER_VIDEO | MEMBER_SCREEN);
    assert_int_equal(msg.media.on, MEMBER_VIDEO);
    proto_msg_clear(&msg);

    in = "{\"type\":\"media_state\",\"audio\":false}";
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, why, sizeof(why)), PROTO_OK);
    assert_int_equal(msg.media.known, MEMBER_AUDIO);
    assert_int_equal(msg.media.on, 0);
    proto_msg_clear(&msg);
}

static void decode_chat_limits(void **state) {
    struct proto_msg msg;
    char why[WHY_LEN];
    char *buf = malloc(PROTO_MAX_CHAT_BYTES + 64);
    assert_non_null(buf);

    /* Exactly 4096 ASCII bytes: accepted. */
    int n = sprintf(buf, "{\"type\":\"chat\",\"content\":\"");
    memset(buf + n, 'a', PROTO_MAX_CHAT_BYTES);
    n += PROTO_MAX_CHAT_BYTES;
    n += sprintf(buf + n, "\"}");
    assert_int_equal(proto_decode(buf, (size_t)n, "a", &msg, why, sizeof(why)), PROTO_OK);
    assert_int_equal(msg.type, PROTO_CHAT);
    assert_int_equal(msg.content_len, PROTO_MAX_CHAT_BYTES);
    assert_int_equal(strlen(msg.content), PROTO_MAX_CHAT_BYTES);
    proto_msg_clear(&msg);

    /* 4097 bytes: refused. */
    n = sprintf(buf, "{\"type\":\"chat\",\"content\":\"");
    memset(buf + n, 'a', PROTO_MAX_CHAT_BYTES + 1);
    n += PROTO_MAX_CHAT_BYTES + 1;
    n += sprintf(buf + n, "\"}");
    assert_int_equal(proto_decode(buf, (size_t)n, "a", &msg, why, sizeof(why)),
                     PROTO_ERR_BAD_REQUEST);
    assert_non_null(strstr(why, "'content'"));
    assert_null(msg.root);

    /* Bytes, not characters: 2048 two-byte characters fit, one more byte
     * does not. */
    n = sprintf(buf, "{\"type\":\"chat\",\"content\":\"");
    for (int i = 0; i < PROTO_MAX_CHAT_BYTES / 2; i++) {
        buf[n++] = (char)0xc3;
        buf[n++] = (char)0xa9;
    }
    n += sprintf(buf + n, "\"}");
    assert_int_equal(proto_decode(buf, (size_t)n, "a", &msg, why, sizeof(why)), PROTO_OK);
    assert_int_equal(msg.content_len, PROTO_MAX_CHAT_BYTES);
    proto_msg_clear(&msg);
    n -= 2;
    n += sprintf(buf + n, "x\"}");
    assert_int_equal(proto_decode(buf, (size_t)n, "a", &msg, why, sizeof(why)),
                     PROTO_ERR_BAD_REQUEST);

    /* An escaped character counts as its decoded bytes. */
    const char *in = "{\"type\":\"chat\",\"content\":\"\\u00e9\"}";
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, why, sizeof(why)), PROTO_OK);
    assert_int_equal(msg.content_len, 2);
    assert_string_equal(msg.content, "\xc3\xa9");
    proto_msg_clear(&msg);
    free(buf);
}

static void decode_ping_and_len(void **state) {
    struct proto_msg msg;
    char why[WHY_LEN];
    /* len is authoritative: the bytes after it are not read. */
    const char *in = "{\"type\":\"ping\"}garbage";
    assert_int_equal(proto_decode(in, strlen("{\"type\":\"ping\"}"), "a", &msg, why, sizeof(why)),
                     PROTO_OK);
    assert_int_equal(msg.type, PROTO_PING);
    proto_msg_clear(&msg);
    /* why may be omitted. */
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, NULL, 0), PROTO_ERR_BAD_REQUEST);
}

/* ---- Decoding: the hostile table ---- */

struct bad_case {
    const char *in;
    int status;
    const char *why_has; /* a substring the reason must contain */
};

static const struct bad_case bad_cases[] = {
    {"", PROTO_ERR_BAD_REQUEST, "empty"},
    {" ", PROTO_ERR_BAD_REQUEST, "invalid JSON"},
    {"[]", PROTO_ERR_BAD_REQUEST, "object"},
    {"\"x\"", PROTO_ERR_BAD_REQUEST, "object"},
    {"42", PROTO_ERR_BAD_REQUEST, "object"},
    {"null", PROTO_ERR_BAD_REQUEST, "object"},
    {"{}", PROTO_ERR_BAD_REQUEST, "'type'"},
    {"{\"type\":5}", PROTO_ERR_BAD_REQUEST, "'type'"},
    {"{\"type\":null}", PROTO_ERR_BAD_REQUEST, "'type'"},
    {"{\"type\":[\"offer\"]}", PROTO_ERR_BAD_REQUEST, "'type'"},
    {"{\"type\":\"hello\"}", PROTO_ERR_UNKNOWN_TYPE, "'hello'"},
    {"{\"type\":\"\"}", PROTO_ERR_UNKNOWN_TYPE, "unknown"},
    {"{\"type\":\"OFFER\"}", PROTO_ERR_UNKNOWN_TYPE, "unknown"},
    {"{\"type\":\"pong\"}", PROTO_ERR_UNKNOWN_TYPE, "unknown"},
    {"{\"type\":\"offer\"}", PROTO_ERR_BAD_REQUEST, "field 'target' must be a non-empty string"},
    {"{\"type\":\"offer\",\"target\":\"\"}", PROTO_ERR_BAD_REQUEST, "'target'"},
    {"{\"type\":\"answer\",\"target\":7}", PROTO_ERR_BAD_REQUEST, "'target'"},
    {"{\"type\":\"ice_candidate\",\"target\":null}", PROTO_ERR_BAD_REQUEST, "'target'"},
    {"{\"type\":\"offer\",\"target\":[\"bob\"]}", PROTO_ERR_BAD_REQUEST, "'target'"},
    {"{\"type\":\"offer\",\"target\":\"alice\"}", PROTO_ERR_BAD_REQUEST, "sender"},
    {"{\"type\":\"media_state\"}", PROTO_ERR_BAD_REQUEST, "at least one"},
    {"{\"type\":\"media_state\",\"mic\":true}", PROTO_ERR_BAD_REQUEST, "at least one"},
    {"{\"type\":\"media_state\",\"video\":1}", PROTO_ERR_BAD_REQUEST,
     "field 'video' must be a boolean"},
    {"{\"type\":\"media_state\",\"video\":true,\"audio\":\"off\"}", PROTO_ERR_BAD_REQUEST,
     "'audio'"},
    {"{\"type\":\"media_state\",\"screen_sharing\":null}", PROTO_ERR_BAD_REQUEST,
     "'screen_sharing'"},
    {"{\"type\":\"chat\"}", PROTO_ERR_BAD_REQUEST, "field 'content' must be a non-empty string"},
    {"{\"type\":\"chat\",\"content\":\"\"}", PROTO_ERR_BAD_REQUEST, "'content'"},
    {"{\"type\":\"chat\",\"content\":42}", PROTO_ERR_BAD_REQUEST, "'content'"},
    {"{\"type\":\"chat\",\"content\":{\"text\":\"hi\"}}", PROTO_ERR_BAD_REQUEST, "'content'"},
    {"{\"type\":\"chat\",\"content\":\"a\\u0000b\"}", PROTO_ERR_BAD_REQUEST, "invalid JSON"},
    {"{\"type\":\"ping\"", PROTO_ERR_BAD_REQUEST, "invalid JSON"},
    {"{\"type\":\"ping\",}", PROTO_ERR_BAD_REQUEST, "invalid JSON"},
    {"{'type':'ping'}", PROTO_ERR_BAD_REQUEST, "invalid JSON"},
    {"{\"type\":\"ping\"}{}", PROTO_ERR_BAD_REQUEST, "invalid JSON"},
    {"{\"type\":\"ping\",\"type\":\"ping\"}", PROTO_ERR_BAD_REQUEST, "invalid JSON"},
    {"{\"type\":\"offer\",\"target\":\"bob\",\"target\":\"alice\"}", PROTO_ERR_BAD_REQUEST,
     "invalid JSON"},
};

static void decode_refuses_hostile_inputs(void **state) {
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct proto_msg msg;
        char why[WHY_LEN];
        memset(&msg, 0xa5, sizeof(msg));
        int rc = proto_decode(c->in, strlen(c->in), "alice", &msg, why, sizeof(why));
        if (rc != c->status)
            fail_msg("case %zu (%s): got %d, expected %d", i, c->in, rc, c->status);
        if (strstr(why, c->why_has) == NULL)
            fail_msg("case %zu (%s): reason '%s' lacks '%s'", i, c->in, why, c->why_has);
        assert_null(msg.root);
        assert_null(msg.target);
        assert_null(msg.content);
        assert_string_equal(proto_status_code(rc),
                            rc == PROTO_ERR_UNKNOWN_TYPE ? "unknown_type" : "bad_request");
    }
}

static void decode_refuses_deep_nesting(void **state) {
    /* Far deeper than jansson's parser limit: refused, not a stack overflow. */
    size_t depth = 100000;
    char *buf = malloc(depth * 2 + 64);
    assert_non_null(buf);
    int n = sprintf(buf, "{\"type\":\"offer\",\"target\":\"b\",\"x\":");
    memset(buf + n, '[', depth);
    memset(buf + n + depth, ']', depth);
    size_t len = (size_t)n + 2 * depth;
    buf[len++] = '}';
    struct proto_msg msg;
    char why[WHY_LEN];
    assert_int_equal(proto_decode(buf, len, "a", &msg, why, sizeof(why)), PROTO_ERR_BAD_REQUEST);
    assert_non_null(strstr(why, "invalid JSON"));
    assert_null(msg.root);

    /* Bare nesting, no object at all. */
    memset(buf, '[', depth);
    assert_int_equal(proto_decode(buf, depth, "a", &msg, why, sizeof(why)), PROTO_ERR_BAD_REQUEST);
    free(buf);
}

static void decode_why_is_truncated_safely(void **state) {
    struct proto_msg msg;
    char why[8];
    const char *in = "{\"type\":\"chat\"}";
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, why, sizeof(why)),
                     PROTO_ERR_BAD_REQUEST);
    assert_int_equal(strlen(why), sizeof(why) - 1);

    /* A long or non-ASCII unknown type is not quoted back. */
    char big[WHY_LEN];
    in = "{\"type\":\"caf\xc3\xa9\"}";
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, big, sizeof(big)),
                     PROTO_ERR_UNKNOWN_TYPE);
    assert_string_equal(big, "unknown message type");
}

static void names_and_codes(void **state) {
    assert_string_equal(proto_type_name(PROTO_OFFER), "offer");
    assert_string_equal(proto_type_name(PROTO_ANSWER), "answer");
    assert_string_equal(proto_type_name(PROTO_ICE_CANDIDATE), "ice_candidate");
    assert_string_equal(proto_type_name(PROTO_MEDIA_STATE), "media_state");
    assert_string_equal(proto_type_name(PROTO_CHAT), "chat");
    assert_string_equal(proto_type_name(PROTO_PING), "ping");
    assert_string_equal(proto_type_name(PROTO_TYPE_COUNT), "unknown");
    assert_string_equal(proto_status_code(PROTO_ERR_BAD_REQUEST), "bad_request");
    assert_string_equal(proto_status_code(PROTO_ERR_UNKNOWN_TYPE), "unknown_type");
    assert_null(proto_status_code(PROTO_OK));
}

/* ---- Builders ---- */

static const char *const two_members[] = {
    "bob",
    "{\"name\":\"Bob\",\"seq\":2,\"media\":{\"audio\":false}}",
    "alice",
    "{\"name\":\"Alice\",\"role\":\"teacher\",\"seq\":1,"
    "\"media\":{\"video\":true,\"audio\":false,\"screen_sharing\":true}}",
};

#define PARTICIPANTS_JSON                                                                          \
    "[{\"peer_id\":\"alice\",\"name\":\"Alice\",\"role\":\"teacher\","                             \
    "\"media\":{\"video\":true,\"audio\":false,\"screen_sharing\":true}},"                         \
    "{\"peer_id\":\"bob\",\"name\":\"Bob\",\"media\":{\"audio\":false}}]"

static void participants(void **state) {
    struct member_list list;
    make_members(&list, two_members, 4);
    json_t *arr = proto_participants(&list);
    char *s = json_dumps(arr, JSON_COMPACT);
    assert_string_equal(s, PARTICIPANTS_JSON);
    free(s);
    json_decref(arr);
    member_list_clear(&list);

    /* No media sent yet: no "media" key. */
    const char *one[] = {"c", "{\"name\":\"C\"}"};
    make_members(&list, one, 2);
    arr = proto_participants(&list);
    s = json_dumps(arr, JSON_COMPACT);
    assert_string_equal(s, "[{\"peer_id\":\"c\",\"name\":\"C\"}]");
    free(s);
    json_decref(arr);
    member_list_clear(&list);

    arr = proto_participants(&list);
    assert_int_equal(json_array_size(arr), 0);
    json_decref(arr);
}

static void room_state(void **state) {
    struct member_list list;
    make_members(&list, two_members, 4);
    json_t *ice = json_loads("[{\"urls\":[\"stun:stun.l.google.com:19302\"]},"
                             "{\"urls\":\"turn:t\",\"username\":\"u\",\"credential\":\"c\"}]",
                             0, NULL);
    size_t len = 0;
    char *s = proto_room_state("r1", "alice", &list, 6, ice, &len);
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    assert_string_equal(s, "{\"type\":\"room_state\",\"room_id\":\"r1\",\"your_id\":\"alice\","
                           "\"participants\":" PARTICIPANTS_JSON ",\"max_participants\":6,"
                           "\"ice_servers\":[{\"urls\":[\"stun:stun.l.google.com:19302\"]},"
                           "{\"urls\":\"turn:t\",\"username\":\"u\",\"credential\":\"c\"}]}");
    free(s);
    /* ice is borrowed: still ours, with one reference. */
    assert_int_equal(ice->refcount, 1);
    json_decref(ice);

    s = proto_room_state("r1", "alice", &list, 6, NULL, &len);
    assert_non_null(strstr(s, ",\"ice_servers\":[]}"));
    free(s);
    member_list_clear(&list);
}

static void peer_joined_and_left(void **state) {
    struct member_list list;
    make_members(&list, two_members, 4);
    size_t len = 0;
    char *s = proto_peer_joined("alice", &list, false, &len);
    assert_int_equal(strlen(s), len);
    assert_string_equal(s, "{\"type\":\"peer_joined\",\"peer_id\":\"alice\","
                           "\"peer_info\":{\"name\":\"Alice\",\"role\":\"teacher\"},"
                           "\"participants\":" PARTICIPANTS_JSON ",\"reconnected\":false}");
    free(s);

    s = proto_peer_joined("bob", &list, true, &len);
    assert_string_equal(s, "{\"type\":\"peer_joined\",\"peer_id\":\"bob\","
                           "\"peer_info\":{\"name\":\"Bob\"},"
                           "\"participants\":" PARTICIPANTS_JSON ",\"reconnected\":true}");
    free(s);

    /* Not in the list: the name falls back to the peer_id. */
    s = proto_peer_joined("zoe", &list, false, &len);
    assert_non_null(strstr(s, "\"peer_info\":{\"name\":\"zoe\"}"));
    free(s);

    s = proto_peer_left("carl", &list, &len);
    assert_int_equal(strlen(s), len);
    assert_string_equal(s, "{\"type\":\"peer_left\",\"peer_id\":\"carl\","
                           "\"participants\":" PARTICIPANTS_JSON "}");
    free(s);
    member_list_clear(&list);

    s = proto_peer_left("carl", &list, &len);
    assert_string_equal(s, "{\"type\":\"peer_left\",\"peer_id\":\"carl\",\"participants\":[]}");
    free(s);
}

static void relay_removes_target_and_sets_from(void **state) {
    const char *in = "{\"type\":\"offer\",\"target\":\"bob\",\"from_peer\":\"mallory\","
                     "\"sdp\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"},\"extra\":[1,2.5,null]}";
    struct proto_msg msg;
    char why[WHY_LEN];
    assert_int_equal(proto_decode(in, strlen(in), "alice", &msg, why, sizeof(why)), PROTO_OK);
    size_t len = 0;
    char *s = proto_relay(&msg, "alice", &len);
    assert_json_equal(s, len,
                      "{\"type\":\"offer\",\"from_peer\":\"alice\","
                      "\"sdp\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"},\"extra\":[1,2.5,null]}");
    free(s);

    /* msg->root is untouched: it still has its target and client from_peer. */
    assert_string_equal(json_string_value(json_object_get(msg.root, "target")), "bob");
    assert_string_equal(json_string_value(json_object_get(msg.root, "from_peer")), "mallory");
    assert_string_equal(msg.target, "bob");

    /* A second relay of the same message gives the same frame. */
    s = proto_relay(&msg, "alice", &len);
    assert_non_null(strstr(s, "\"from_peer\":\"alice\""));
    assert_null(strstr(s, "target"));
    free(s);
    proto_msg_clear(&msg);

    assert_null(proto_relay(&msg, "alice", &len)); /* cleared message */
}

/* Splices in and checks the result against proto_relay, as JSON values. */
static size_t splice_checked(const char *in, char *out, size_t cap) {
    struct proto_msg msg;
    char why[WHY_LEN];
    assert_int_equal(proto_decode(in, strlen(in), "alice", &msg, why, sizeof(why)), PROTO_OK);
    size_t n = proto_relay_splice(in, strlen(in), "\"alice\"", 7, out, cap);
    if (n > 0) {
        size_t len = 0;
        char *ref = proto_relay(&msg, "alice", &len);
        json_t *a = json_loadb(out, n, JSON_REJECT_DUPLICATES, NULL);
        json_t *b = json_loadb(ref, len, 0, NULL);
        assert_non_null(a);
        assert_true(json_equal(a, b));
        json_decref(a);
        json_decref(b);
        free(ref);
    }
    proto_msg_clear(&msg);
    return n;
}

static void relay_splice_keeps_the_client_bytes(void **state) {
    char out[512];
    const char *in = "{\"type\":\"offer\",\"target\":\"bob\",\"sdp\":\"v=0\\r\\n\"}";
    size_t n = splice_checked(in, out, sizeof(out));
    assert_int_equal(n,
                     strlen("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\",\"from_peer\":\"alice\"}"));
    assert_memory_equal(out, "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\",\"from_peer\":\"alice\"}",
                        n);

    /* The client's from_peer goes, wherever it is; nested "target" keys,
     * braces and quotes inside strings, spacing and escapes in values are
     * left exactly as sent. */
    in = " { \"from_peer\" : \"mallory\", \"type\":\"ice_candidate\" ,"
         "\"candidate\":{\"target\":\"x\",\"c\":\"a}\\\"b{\",\"l\":[1,{\"k\":[]},\"]\"]},"
         "\"target\" :\"bob\", \"n\":-1.5e3 , \"u\":\"\\u00e9\\/\" } ";
    n = splice_checked(in, out, sizeof(out));
    const char *want =
        "{\"type\":\"ice_candidate\","
        "\"candidate\":{\"target\":\"x\",\"c\":\"a}\\\"b{\",\"l\":[1,{\"k\":[]},\"]\"]},"
        "\"n\":-1.5e3 ,\"u\":\"\\u00e9\\/\",\"from_peer\":\"alice\"}";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);

    /* Only the target and type: the sender is all that is added. */
    n = splice_checked("{\"target\":\"bob\",\"type\":\"answer\"}", out, sizeof(out));
    assert_memory_equal(out, "{\"type\":\"answer\",\"from_peer\":\"alice\"}", n);
}

static void relay_splice_declines(void **state) {
    char out[512];
    /* A top-level key written with escapes is compared as decoded by
     * proto_relay only. */
    assert_int_equal(
        splice_checked("{\"type\":\"offer\",\"t\\u0061rget\":\"bob\"}", out, sizeof(out)), 0);
    assert_int_equal(
        splice_checked("{\"type\":\"offer\",\"target\":\"bob\",\"\\\"q\":1}", out, sizeof(out)), 0);
    /* Too little room, and texts that are not one object. */
    const char *in = "{\"type\":\"offer\",\"target\":\"bob\"}";
    assert_int_equal(proto_relay_splice(in, strlen(in), "\"a\"", 3, out, strlen(in) + 3), 0);
    assert_int_equal(proto_relay_splice("[1]", 3, "\"a\"", 3, out, sizeof(out)), 0);
    assert_int_equal(proto_relay_splice("{\"a\":", 5, "\"a\"", 3, out, sizeof(out)), 0);
    assert_int_equal(proto_relay_splice("{\"a\":\"x", 8, "\"a\"", 3, out, sizeof(out)), 0);
    assert_int_equal(proto_relay_splice("{\"a\":1", 6, "\"a\"", 3, out, sizeof(out)), 0);
    assert_int_equal(proto_relay_splice("", 0, "\"a\"", 3, out, sizeof(out)), 0);
}

static void media_state_frame(void **state) {
    struct member_media media = {.known = MEMBER_VIDEO | MEMBER_AUDIO | MEMBER_SCREEN,
                                 .on = MEMBER_VIDEO};
    size_t len = 0;
    char *s = proto_media_state("alice", media, &len);
    assert_int_equal(strlen(s), len);
    assert_string_equal(s, "{\"type\":\"media_state\",\"peer_id\":\"alice\",\"video\":true,"
                           "\"audio\":false,\"screen_sharing\":false}");
    free(s);

    struct member_media some = {.known = MEMBER_SCREEN, .on = MEMBER_SCREEN};
    s = proto_media_state("bob", some, &len);
    assert_string_equal(s,
                        "{\"type\":\"media_state\",\"peer_id\":\"bob\",\"screen_sharing\":true}");
    free(s);
}

static void chat_frame(void **state) {
    const char *content = "h\xc3\xa9llo \"you\"\nbye";
    size_t len = 0;
    char *s =
        proto_chat("alice", "Alice", content, strlen(content), "2026-02-15T10:30:00.000Z", &len);
    assert_int_equal(strlen(s), len);
    assert_string_equal(s, "{\"type\":\"chat\",\"from_peer\":\"alice\",\"from_name\":\"Alice\","
                           "\"content\":\"h\xc3\xa9llo \\\"you\\\"\\nbye\","
                           "\"timestamp\":\"2026-02-15T10:30:00.000Z\"}");
    free(s);

    /* content_len bounds the text. */
    s = proto_chat("a", "A", "hello", 2, "t", &len);
    assert_string_equal(s, "{\"type\":\"chat\",\"from_peer\":\"a\",\"from_name\":\"A\","
                           "\"content\":\"he\",\"timestamp\":\"t\"}");
    free(s);
}

static void pong_echoes_ts(void **state) {
    struct proto_msg msg;
    char why[WHY_LEN];
    size_t len = 0;

    const char *in = "{\"type\":\"ping\"}";
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, why, sizeof(why)), PROTO_OK);
    char *s = proto_pong(&msg, &len);
    assert_string_equal(s, "{\"type\":\"pong\"}");
    assert_int_equal(len, strlen(s));
    free(s);
    proto_msg_clear(&msg);

    in = "{\"type\":\"ping\",\"ts\":1739615400123,\"other\":1}";
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, why, sizeof(why)), PROTO_OK);
    s = proto_pong(&msg, &len);
    assert_string_equal(s, "{\"type\":\"pong\",\"ts\":1739615400123}");
    free(s);
    proto_msg_clear(&msg);

    /* ts of any JSON type is echoed as is. */
    in = "{\"type\":\"ping\",\"ts\":{\"a\":[\"x\",null]}}";
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, why, sizeof(why)), PROTO_OK);
    s = proto_pong(&msg, &len);
    assert_string_equal(s, "{\"type\":\"pong\",\"ts\":{\"a\":[\"x\",null]}}");
    free(s);
    proto_msg_clear(&msg);

    in = "{\"type\":\"ping\",\"ts\":\"abc\"}";
    assert_int_equal(proto_decode(in, strlen(in), "a", &msg, why, sizeof(why)), PROTO_OK);
    s = proto_pong(&msg, &len);
    assert_string_equal(s, "{\"type\":\"pong\",\"ts\":\"abc\"}");
    free(s);
    proto_msg_clear(&msg);
}

static void error_frames(void **state) {
    size_t len = 0;
    char *s =
        proto_error("bad_request", "field 'target' must be a non-empty string", NULL, NULL, &len);
    assert_int_equal(strlen(s), len);
    assert_string_equal(s, "{\"type\":\"error\",\"code\":\"bad_request\","
                           "\"message\":\"field 'target' must be a non-empty string\"}");
    free(s);

    s = proto_error("peer_not_found", "no such peer", "bob", NULL, &len);
    assert_string_equal(s, "{\"type\":\"error\",\"code\":\"peer_not_found\","
                           "\"message\":\"no such peer\",\"target\":\"bob\"}");
    free(s);

    json_t *lk = json_loads("{\"url\":\"http://localhost:7880\",\"token\":\"tok\"}", 0, NULL);
    s = proto_error("room_full", "room is full", NULL, lk, &len);
    assert_string_equal(s,
                        "{\"type\":\"error\",\"code\":\"room_full\",\"message\":\"room is full\","
                        "\"livekit\":{\"url\":\"http://localhost:7880\",\"token\":\"tok\"}}");
    free(s);
    assert_int_equal(lk->refcount, 1); /* borrowed */
    json_decref(lk);

    /* len may be NULL. */
    s = proto_error("unavailable", "store down", NULL, NULL, NULL);
    assert_non_null(s);
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_offer),
        cmocka_unit_test(decode_media_state),
        cmocka_unit_test(decode_chat_limits),
        cmocka_unit_test(decode_ping_and_len),
        cmocka_unit_test(decode_refuses_hostile_inputs),
        cmocka_unit_test(decode_refuses_deep_nesting),
        cmocka_unit_test(decode_why_is_truncated_safely),
        cmocka_unit_test(names_and_codes),
        cmocka_unit_test(participants),
        cmocka_unit_test(room_state),
        cmocka_unit_test(peer_joined_and_left),
        cmocka_unit_test(relay_removes_target_and_sets_from),
        cmocka_unit_test(relay_splice_keeps_the_client_bytes),
        cmocka_unit_test(relay_splice_declines),
        cmocka_unit_test(media_state_frame),
        cmocka_unit_test(chat_frame),
        cmocka_unit_test(pong_echoes_ts),
        cmocka_unit_test(error_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
