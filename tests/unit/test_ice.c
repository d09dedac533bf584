/*
 * Unit tests for common/ice: the ICE server list, with static TURN
 * credentials or TURN REST ones. Expected credentials were computed
 * outside signald, with
 *   printf '%s' USERNAME | openssl dgst -sha1 -hmac SECRET -binary | base64
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ice.h"

#define NOW 1700000000LL

static char *stun_default[] = {"stun:stun.l.google.com:19302", "stun:stun1.l.google.com:19302"};

/* A config with only the fields ice reads; strings are borrowed. */
static struct config ice_config(void) {
    struct config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.stun_urls = stun_default;
    cfg.stun_count = 2;
    cfg.turn_url = "turn:turn.example.org:3478";
    cfg.turn_username = "";
    cfg.turn_credential = "";
    cfg.turn_secret = "";
    cfg.turn_ttl_s = 3600;
    return cfg;
}

static void assert_stun_entry(const json_t *entry, char **urls, size_t count) {
    assert_true(json_is_object(entry));
    assert_int_equal(json_object_size(entry), 1);
    const json_t *list = json_object_get(entry, "urls");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(json_string_value(json_array_get(list, i)), urls[i]);
}

static const char *str_at(const json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    assert_non_null(s);
    return s;
}

static void known_vectors(void **state) {
    /* RFC 2202, HMAC-SHA1 test case 2. */
    char *c = ice_turn_credential("Jefe", "what do ya want for nothing?");
    assert_string_equal(c, "7/zfauXrL6LSdBbV8YTfnCWafHk=");
    free(c);
    c = ice_turn_credential("s3cret", "1700003600:alice");
    assert_string_equal(c, "YAFdW/YDZewZsR1QSgUk2IrfbRI=");
    free(c);
    assert_null(ice_turn_credential(NULL, "u"));
    assert_null(ice_turn_credential("s", NULL));
}

static void static_credentials(void **state) {
    struct config cfg = ice_config();
    cfg.turn_username = "user";
    cfg.turn_credential = "pass";
    json_t *list = ice_servers(&cfg, "alice", NOW);
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 2);
    assert_stun_entry(json_array_get(list, 0), stun_default, 2);
    const json_t *turn = json_array_get(list, 1);
    assert_int_equal(json_object_size(turn), 3);
    assert_string_equal(str_at(turn, "urls"), "turn:turn.example.org:3478");
    assert_string_equal(str_at(turn, "username"), "user");
    assert_string_equal(str_at(turn, "credential"), "pass");
    json_decref(list);
}

static void static_without_credentials(void **state) {
    struct config cfg = ice_config();
    json_t *list = ice_servers(&cfg, "alice", NOW);
    const json_t *turn = json_array_get(list, 1);
    assert_int_equal(json_object_size(turn), 1);
    assert_string_equal(str_at(turn, "urls"), "turn:turn.example.org:3478");
    json_decref(list);

    cfg.turn_username = NULL;
    cfg.turn_credential = "pass";
    list = ice_servers(&cfg, "alice", NOW);
    turn = json_array_get(list, 1);
    assert_null(json_object_get(turn, "username"));
    assert_string_equal(str_at(turn, "credential"), "pass");
    json_decref(list);
}

static void secret_credentials(void **state) {
    struct config cfg = ice_config();
    cfg.turn_secret = "s3cret";
    cfg.turn_username = "ignored";
    cfg.turn_credential = "ignored";
    json_t *list = ice_servers(&cfg, "alice", NOW);
    const json_t *turn = json_array_get(list, 1);
    assert_int_equal(json_object_size(turn), 3);
    assert_string_equal(str_at(turn, "urls"), "turn:turn.example.org:3478");
    assert_string_equal(str_at(turn, "username"), "1700003600:alice");
    assert_string_equal(str_at(turn, "credential"), "YAFdW/YDZewZsR1QSgUk2IrfbRI=");
    json_decref(list);

    /* Without a peer id the username is the expiry alone. */
    list = ice_servers(&cfg, NULL, NOW);
    turn = json_array_get(list, 1);
    assert_string_equal(str_at(turn, "username"), "1700003600");
    assert_string_equal(str_at(turn, "credential"), "hkHv/K58ZdACCJ9F4MWT46M317I=");
    json_decref(list);

    /* The TTL moves the expiry. */
    cfg.turn_ttl_s = 60;
    list = ice_servers(&cfg, "bob", NOW);
    turn = json_array_get(list, 1);
    assert_string_equal(str_at(turn, "username"), "1700000060:bob");
    char *want = ice_turn_credential("s3cret", "1700000060:bob");
    assert_string_equal(str_at(turn, "credential"), want);
    free(want);
    json_decref(list);
}

static void entries_left_out(void **state) {
    struct config cfg = ice_config();
    cfg.turn_url = "";
    json_t *list = ice_servers(&cfg, "alice", NOW);
    assert_int_equal(json_array_size(list), 1);
    assert_stun_entry(json_array_get(list, 0), stun_default, 2);
    json_decref(list);

    cfg.turn_url = NULL;
    list = ice_servers(&cfg, "alice", NOW);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);

    cfg = ice_config();
    cfg.stun_urls = NULL;
    cfg.stun_count = 0;
    list = ice_servers(&cfg, "alice", NOW);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(str_at(json_array_get(list, 0), "urls"), "turn:turn.example.org:3478");
    json_decref(list);

    cfg.turn_url = "";
    list = ice_servers(&cfg, "alice", NOW);
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

static void one_stun_url(void **state) {
    static char *one[] = {"stun:a"};
    struct config cfg = ice_config();
    cfg.stun_urls = one;
    cfg.stun_count = 1;
    cfg.turn_url = "";
    json_t *list = ice_servers(&cfg, "alice", NOW);
    assert_stun_entry(json_array_get(list, 0), one, 1);
    char *text = json_dumps(list, JSON_COMPACT);
    assert_string_equal(text, "[{\"urls\":[\"stun:a\"]}]");
    free(text);
    json_decref(list);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_vectors),
        cmocka_unit_test(static_credentials),
        cmocka_unit_test(static_without_credentials),
        cmocka_unit_test(secret_credentials),
        cmocka_unit_test(entries_left_out),
        cmocka_unit_test(one_stun_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
