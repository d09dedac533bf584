/*
 * Unit tests for common/livekit: tokens are decoded with libjwt and the
 * API secret, and every claim and grant is checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "livekit.h"

#define NOW 1700000000LL

static struct config lk_config(void) {
    struct config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.livekit_url = "wss://lk.example.org";
    cfg.livekit_api_key = "APIkey1";
    cfg.livekit_api_secret = "lk-secret-of-some-length";
    cfg.livekit_ttl_s = 600;
    return cfg;
}

/* Decodes token with secret; fails the test if it does not verify. */
static jwt_t *decode(const char *token, const char *secret) {
    jwt_t *jwt = NULL;
    assert_int_equal(jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)),
                     0);
    assert_int_equal(jwt_get_alg(jwt), JWT_ALG_HS256);
    return jwt;
}

static json_t *claims_of(jwt_t *jwt) {
    char *text = jwt_get_grants_json(jwt, NULL);
    assert_non_null(text);
    json_t *claims = json_loads(text, 0, NULL);
    free(text);
    assert_true(json_is_object(claims));
    return claims;
}

static void check_claims(const json_t *claims, const char *identity, const char *name,
                         const char *room) {
    assert_string_equal(json_string_value(json_object_get(claims, "iss")), "APIkey1");
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), identity);
    if (name)
        assert_string_equal(json_string_value(json_object_get(claims, "name")), name);
    else
        assert_null(json_object_get(claims, "name"));
    assert_int_equal(json_integer_value(json_object_get(claims, "nbf")), NOW);
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), NOW + 600);
    const json_t *video = json_object_get(claims, "video");
    assert_true(json_is_object(video));
    assert_int_equal(json_object_size(video), 4);
    assert_string_equal(json_string_value(json_object_get(video, "room")), room);
    assert_true(json_is_true(json_object_get(video, "roomJoin")));
    assert_true(json_is_true(json_object_get(video, "canPublish")));
    assert_true(json_is_true(json_object_get(video, "canSubscribe")));
    /* Nothing else is granted. */
    assert_int_equal(json_object_size(claims), name ? 6 : 5);
}

static void token_claims(void **state) {
    struct config cfg = lk_config();
    char *token = livekit_token(&cfg, "alice", "Alice A.", "room-1", NOW);
    assert_non_null(token);
    jwt_t *jwt = decode(token, "lk-secret-of-some-length");
    json_t *claims = claims_of(jwt);
    check_claims(claims, "alice", "Alice A.", "room-1");
    json_decref(claims);
    jwt_free(jwt);
    free(token);
}

static void token_without_name(void **state) {
    struct config cfg = lk_config();
    char *token = livekit_token(&cfg, "42", NULL, "r", NOW);
    jwt_t *jwt = decode(token, "lk-secret-of-some-length");
    json_t *claims = claims_of(jwt);
    check_claims(claims, "42", NULL, "r");
    json_decref(claims);
    jwt_free(jwt);
    free(token);
}

static void awkward_strings_survive(void **state) {
    struct config cfg = lk_config();
    const char *room = "r\"}{\\,\"x\":1";
    const char *name = "Zo\xc3\xab \"Z\"";
    char *token = livekit_token(&cfg, "id\"1", name, room, NOW);
    jwt_t *jwt = decode(token, "lk-secret-of-some-length");
    json_t *claims = claims_of(jwt);
    check_claims(claims, "id\"1", name, room);
    json_decref(claims);
    jwt_free(jwt);
    free(token);
}

static void wrong_secret_does_not_verify(void **state) {
    struct config cfg = lk_config();
    char *token = livekit_token(&cfg, "alice", "Alice", "r", NOW);
    jwt_t *jwt = NULL;
    const char *other = "not-the-secret";
    assert_int_not_equal(jwt_decode(&jwt, token, (const unsigned char *)other, (int)strlen(other)),
                         0);
    assert_null(jwt);
    free(token);
}

static void refuses_missing_inputs(void **state) {
    struct config cfg = lk_config();
    assert_null(livekit_token(&cfg, NULL, "n", "r", NOW));
    assert_null(livekit_token(&cfg, "a", "n", NULL, NOW));
    assert_null(livekit_token(NULL, "a", "n", "r", NOW));
    cfg.livekit_api_secret = "";
    assert_null(livekit_token(&cfg, "a", "n", "r", NOW));
    assert_null(livekit_offer(&cfg, "a", "n", "r", NOW));
}

static void offer(void **state) {
    struct config cfg = lk_config();
    json_t *o = livekit_offer(&cfg, "bob", "Bob", "big-class", NOW);
    assert_true(json_is_object(o));
    assert_int_equal(json_object_size(o), 2);
    assert_string_equal(json_string_value(json_object_get(o, "url")), "wss://lk.example.org");
    const char *token = json_string_value(json_object_get(o, "token"));
    assert_non_null(token);
    jwt_t *jwt = decode(token, "lk-secret-of-some-length");
    json_t *claims = claims_of(jwt);
    check_claims(claims, "bob", "Bob", "big-class");
    json_decref(claims);
    jwt_free(jwt);
    json_decref(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_claims),
        cmocka_unit_test(token_without_name),
        cmocka_unit_test(awkward_strings_survive),
        cmocka_unit_test(wrong_secret_does_not_verify),
        cmocka_unit_test(refuses_missing_inputs),
        cmocka_unit_test(offer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
