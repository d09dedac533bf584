/*
 * Unit tests for common/auth: JWT verification and claims. Tokens are
 * minted here with libjwt (and by hand for alg "none"); RS256/ES256 keys
 * are the test-only pairs in tests/unit/data/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/evp.h>

#include "auth.h"

#define NOW    1700000000LL
#define SECRET "test-secret-0123456789"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* Reads a file from TEST_DATA_DIR; the caller frees. */
static unsigned char *read_data(const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(65536);
    assert_non_null(buf);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Mints a token with the given claims (a JSON object). The caller frees. */
static char *mint(jwt_alg_t alg, const void *key, size_t keylen, const char *claims) {
    jwt_t *jwt = NULL;
    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
    assert_int_equal(jwt_set_alg(jwt, alg, key, (int)keylen), 0);
    char *token = jwt_encode_str(jwt);
    assert_non_null(token);
    jwt_free(jwt);
    return token;
}

static char *mint_hs(const char *claims) {
    return mint(JWT_ALG_HS256, SECRET, strlen(SECRET), claims);
}

static struct auth_params hs_params(void) {
    struct auth_params p = {AUTH_HS256, (const unsigned char *)SECRET, strlen(SECRET), 30, true};
    return p;
}

/* Verifies token with params and room; expects status and, for failures,
 * the reason. */
static void expect_fail(const struct auth_params *p, const char *token, const char *room,
                        int status, const char *reason) {
    struct auth_identity id = {0};
    const char *why = NULL;
    assert_int_equal(auth_verify(p, token, room, NOW, &id, &why), status);
    assert_non_null(why);
    if (reason)
        assert_string_equal(why, reason);
    assert_null(id.peer_id);
    assert_null(id.name);
    assert_null(id.role);
}

static void expect_hs_fail(const char *claims, const char *room, int status, const char *reason) {
    struct auth_params p = hs_params();
    char *token = mint_hs(claims);
    expect_fail(&p, token, room, status, reason);
    free(token);
}

/* Verifies an HS256 token with claims; expects AUTH_OK and the identity. */
static void expect_hs_ok(const char *claims, const char *room, const char *peer, const char *name,
                         const char *role) {
    struct auth_params p = hs_params();
    char *token = mint_hs(claims);
    struct auth_identity id = {0};
    const char *why = NULL;
    assert_int_equal(auth_verify(&p, token, room, NOW, &id, &why), AUTH_OK);
    assert_string_equal(id.peer_id, peer);
    assert_string_equal(id.name, name);
    if (role)
        assert_string_equal(id.role, role);
    else
        assert_null(id.role);
    auth_identity_clear(&id);
    assert_null(id.peer_id);
    free(token);
}

/* base64url without padding, into a malloc'd string. */
static char *b64url(const char *in) {
    size_t n = strlen(in);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
    size_t j = 0;
    for (size_t i = 0; out[i]; i++) {
        if (out[i] == '=')
            break;
        out[j++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    out[j] = '\0';
    return out;
}

static char *hand_token(const char *header, const char *payload, const char *sig) {
    char *h = b64url(header), *p = b64url(payload);
    size_t len = strlen(h) + strlen(p) + strlen(sig) + 3;
    char *t = malloc(len);
    assert_non_null(t);
    snprintf(t, len, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);
    return t;
}

/* ---------------------------------------------------------------------------
 * Signature and algorithm
 * ------------------------------------------------------------------------- */

static void good_token(void **state) {
    expect_hs_ok("{\"sub\":\"alice\",\"exp\":1700000060,\"name\":\"Alice\",\"role\":\"teacher\"}",
                 "r1", "alice", "Alice", "teacher");
}

static void why_may_be_null(void **state) {
    struct auth_params p = hs_params();
    struct auth_identity id = {0};
    assert_int_equal(auth_verify(&p, "x", NULL, NOW, &id, NULL), AUTH_ERR_UNAUTHORIZED);
}

static void bad_signature(void **state) {
    struct auth_params p = hs_params();
    const char *other = "another-secret";
    char *token = mint(JWT_ALG_HS256, other, strlen(other), "{\"sub\":\"a\",\"exp\":1700000060}");
    expect_fail(&p, token, NULL, AUTH_ERR_UNAUTHORIZED, "bad signature");
    free(token);

    /* The right token with its signature swapped for another's. */
    char *good = mint_hs("{\"sub\":\"a\",\"exp\":1700000060}");
    char *bad = mint_hs("{\"sub\":\"b\",\"exp\":1700000060}");
    strcpy(strrchr(good, '.'), strrchr(bad, '.'));
    expect_fail(&p, good, NULL, AUTH_ERR_UNAUTHORIZED, "bad signature");
    free(good);
    free(bad);
}

static void alg_none_refused(void **state) {
    struct auth_params p = hs_params();
    const char *payload = "{\"sub\":\"mallory\",\"exp\":1700000060}";
    char *t = hand_token("{\"alg\":\"none\"}", payload, "");
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "wrong algorithm");
    free(t);
    t = hand_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, "c2ln");
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "wrong algorithm");
    free(t);
    /* Lower-case and missing alg fare no better. */
    t = hand_token("{\"alg\":\"hs256\"}", payload, "c2ln");
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "wrong algorithm");
    free(t);
    t = hand_token("{\"typ\":\"JWT\"}", payload, "c2ln");
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "malformed");
    free(t);
}

static void wrong_alg_refused(void **state) {
    struct auth_params p = hs_params();
    char *t = mint(JWT_ALG_HS384, SECRET, strlen(SECRET), "{\"sub\":\"a\",\"exp\":1700000060}");
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "wrong algorithm");
    free(t);
}

static void algorithm_confusion_refused(void **state) {
    size_t publen;
    unsigned char *pub = read_data("rs256_public.pem", &publen);
    /* An HS256 token whose HMAC key is the RSA public key PEM. */
    char *t = mint(JWT_ALG_HS256, pub, publen, "{\"sub\":\"mallory\",\"exp\":1700000060}");

    /* libjwt alone would take it: this is the trap auth guards against. */
    jwt_t *jwt = NULL;
    assert_int_equal(jwt_decode(&jwt, t, pub, (int)publen), 0);
    assert_int_equal(jwt_get_alg(jwt), JWT_ALG_HS256);
    jwt_free(jwt);

    struct auth_params p = {AUTH_RS256, pub, publen, 30, true};
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "wrong algorithm");
    free(t);
    free(pub);
}

static void asymmetric_ok(const char *priv_file, const char *pub_file, jwt_alg_t jalg,
                          enum auth_alg alg) {
    size_t privlen, publen;
    unsigned char *priv = read_data(priv_file, &privlen);
    unsigned char *pub = read_data(pub_file, &publen);
    char *t = mint(jalg, priv, privlen, "{\"sub\":\"bob\",\"exp\":1700000060,\"name\":\"Bob\"}");
    struct auth_params p = {alg, pub, publen, 30, true};
    struct auth_identity id = {0};
    const char *why = NULL;
    assert_int_equal(auth_verify(&p, t, "r", NOW, &id, &why), AUTH_OK);
    assert_string_equal(id.peer_id, "bob");
    assert_string_equal(id.name, "Bob");
    auth_identity_clear(&id);

    /* A flipped signature byte breaks it. */
    char *sig = strrchr(t, '.') + 1;
    sig[4] = sig[4] == 'A' ? 'B' : 'A';
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "bad signature");
    free(t);
    free(priv);
    free(pub);
}

static void rs256_good(void **state) {
    asymmetric_ok("rs256_private.pem", "rs256_public.pem", JWT_ALG_RS256, AUTH_RS256);
}

static void es256_good(void **state) {
    asymmetric_ok("es256_private.pem", "es256_public.pem", JWT_ALG_ES256, AUTH_ES256);
}

static void rs256_token_with_other_key(void **state) {
    size_t privlen, publen;
    unsigned char *priv = read_data("rs256_private.pem", &privlen);
    unsigned char *pub = read_data("es256_public.pem", &publen);
    char *t = mint(JWT_ALG_RS256, priv, privlen, "{\"sub\":\"bob\",\"exp\":1700000060}");
    struct auth_params p = {AUTH_RS256, pub, publen, 30, true};
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "bad signature");
    free(t);
    free(priv);
    free(pub);
}

static void no_key_refused(void **state) {
    char *t = mint_hs("{\"sub\":\"a\",\"exp\":1700000060}");
    struct auth_params p = hs_params();
    p.key = NULL;
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, NULL);
    p = hs_params();
    p.key_len = 0;
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, NULL);
    free(t);
}

/* ---------------------------------------------------------------------------
 * Time claims
 * ------------------------------------------------------------------------- */

static void expired(void **state) {
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1699999969}", NULL, AUTH_ERR_UNAUTHORIZED, "expired");
    expect_hs_fail("{\"sub\":\"a\",\"exp\":-5}", NULL, AUTH_ERR_UNAUTHORIZED, "expired");
    /* 0.5 s past exp + leeway. */
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1699999969.5}", NULL, AUTH_ERR_UNAUTHORIZED, "expired");
}

static void exp_within_leeway(void **state) {
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1699999970}", NULL, "a", "a", NULL);
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1699999970.5}", NULL, "a", "a", NULL);
    expect_hs_ok("{\"sub\":\"a\",\"exp\":9223372036854775807}", NULL, "a", "a", NULL);
}

static void exp_missing_or_bad(void **state) {
    expect_hs_fail("{\"sub\":\"a\"}", NULL, AUTH_ERR_UNAUTHORIZED, "missing exp");
    expect_hs_fail("{\"sub\":\"a\",\"exp\":\"1700000060\"}", NULL, AUTH_ERR_UNAUTHORIZED,
                   "bad exp");
    expect_hs_fail("{\"sub\":\"a\",\"exp\":null}", NULL, AUTH_ERR_UNAUTHORIZED, "bad exp");

    struct auth_params p = hs_params();
    p.require_exp = false;
    char *t = mint_hs("{\"sub\":\"a\"}");
    struct auth_identity id = {0};
    const char *why;
    assert_int_equal(auth_verify(&p, t, NULL, NOW, &id, &why), AUTH_OK);
    auth_identity_clear(&id);
    free(t);
}

static void nbf_honoured(void **state) {
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1700000060,\"nbf\":1700000031}", NULL,
                   AUTH_ERR_UNAUTHORIZED, "not yet valid");
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1700000060,\"nbf\":1700000030.5}", NULL,
                   AUTH_ERR_UNAUTHORIZED, "not yet valid");
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1700000060,\"nbf\":true}", NULL, AUTH_ERR_UNAUTHORIZED,
                   "bad nbf");
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060,\"nbf\":1700000030}", NULL, "a", "a", NULL);
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060,\"nbf\":-9223372036854775807}", NULL, "a", "a",
                 NULL);
}

static void zero_leeway(void **state) {
    struct auth_params p = hs_params();
    p.leeway_s = 0;
    char *t = mint_hs("{\"sub\":\"a\",\"exp\":1699999999}");
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "expired");
    free(t);
    t = mint_hs("{\"sub\":\"a\",\"exp\":1700000000}");
    struct auth_identity id = {0};
    const char *why;
    assert_int_equal(auth_verify(&p, t, NULL, NOW, &id, &why), AUTH_OK);
    auth_identity_clear(&id);
    free(t);
}

/* ---------------------------------------------------------------------------
 * sub, names and role
 * ------------------------------------------------------------------------- */

static void sub_rules(void **state) {
    expect_hs_fail("{\"exp\":1700000060}", NULL, AUTH_ERR_UNAUTHORIZED, "missing sub");
    expect_hs_fail("{\"sub\":\"\",\"exp\":1700000060}", NULL, AUTH_ERR_UNAUTHORIZED, "empty sub");
    expect_hs_fail("{\"sub\":null,\"exp\":1700000060}", NULL, AUTH_ERR_UNAUTHORIZED, "bad sub");
    expect_hs_fail("{\"sub\":4.2,\"exp\":1700000060}", NULL, AUTH_ERR_UNAUTHORIZED, "bad sub");
    expect_hs_fail("{\"sub\":[\"a\"],\"exp\":1700000060}", NULL, AUTH_ERR_UNAUTHORIZED, "bad sub");
    expect_hs_fail("{\"sub\":\"a\\nb\",\"exp\":1700000060}", NULL, AUTH_ERR_UNAUTHORIZED,
                   "bad sub");
    expect_hs_fail("{\"sub\":\"a\\u007fb\",\"exp\":1700000060}", NULL, AUTH_ERR_UNAUTHORIZED,
                   "bad sub");
    expect_hs_ok("{\"sub\":42,\"exp\":1700000060}", NULL, "42", "42", NULL);
    expect_hs_ok("{\"sub\":-7,\"exp\":1700000060}", NULL, "-7", "-7", NULL);
    expect_hs_ok("{\"sub\":\"caf\\u00e9 \\u4e2d\",\"exp\":1700000060}", NULL,
                 "caf\xc3\xa9 \xe4\xb8\xad", "caf\xc3\xa9 \xe4\xb8\xad", NULL);
}

static void sub_length(void **state) {
    char sub[AUTH_MAX_PEER_ID + 2];
    char claims[512];
    memset(sub, 'x', sizeof(sub));
    sub[AUTH_MAX_PEER_ID] = '\0';
    snprintf(claims, sizeof(claims), "{\"sub\":\"%s\",\"exp\":1700000060}", sub);
    expect_hs_ok(claims, NULL, sub, sub, NULL);
    sub[AUTH_MAX_PEER_ID] = 'x';
    sub[AUTH_MAX_PEER_ID + 1] = '\0';
    snprintf(claims, sizeof(claims), "{\"sub\":\"%s\",\"exp\":1700000060}", sub);
    expect_hs_fail(claims, NULL, AUTH_ERR_UNAUTHORIZED, "sub too long");
}

static void name_fallbacks(void **state) {
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060,\"name\":\"N\",\"full_name\":\"F\","
                 "\"username\":\"U\"}",
                 NULL, "a", "N", NULL);
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060,\"full_name\":\"F\",\"username\":\"U\"}", NULL,
                 "a", "F", NULL);
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060,\"username\":\"U\"}", NULL, "a", "U", NULL);
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060}", NULL, "a", "a", NULL);
    /* Empty or non-string names are skipped. */
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060,\"name\":\"\",\"full_name\":7,"
                 "\"username\":\"U\"}",
                 NULL, "a", "U", NULL);
    expect_hs_ok("{\"sub\":5,\"exp\":1700000060,\"name\":null}", NULL, "5", "5", NULL);
}

static void name_truncated_at_utf8_boundary(void **state) {
    /* 255 ASCII bytes then a 2-byte character: 257 bytes, cut to 255. */
    char name[AUTH_MAX_NAME + 8];
    memset(name, 'n', AUTH_MAX_NAME - 1);
    strcpy(name + AUTH_MAX_NAME - 1, "\xc3\xa9");
    char claims[1024];
    snprintf(claims, sizeof(claims),
             "{\"sub\":\"a\",\"exp\":1700000060,\"name\":\"%s\",\"role\":\"%s\"}", name, name);
    char want[AUTH_MAX_NAME + 1];
    memset(want, 'n', AUTH_MAX_NAME - 1);
    want[AUTH_MAX_NAME - 1] = '\0';
    expect_hs_ok(claims, NULL, "a", want, want);

    /* Exactly AUTH_MAX_NAME bytes are kept whole. */
    memset(name, 'm', AUTH_MAX_NAME);
    name[AUTH_MAX_NAME] = '\0';
    snprintf(claims, sizeof(claims), "{\"sub\":\"a\",\"exp\":1700000060,\"name\":\"%s\"}", name);
    expect_hs_ok(claims, NULL, "a", name, NULL);
}

static void role_present_or_absent(void **state) {
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060,\"role\":\"student\"}", NULL, "a", "a",
                 "student");
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060}", NULL, "a", "a", NULL);
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060,\"role\":3}", NULL, "a", "a", NULL);
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060,\"role\":\"\"}", NULL, "a", "a", NULL);
}

/* ---------------------------------------------------------------------------
 * Room claim
 * ------------------------------------------------------------------------- */

static void room_claim(void **state) {
    const char *one = "{\"sub\":\"a\",\"exp\":1700000060,\"room\":\"r1\"}";
    const char *list = "{\"sub\":\"a\",\"exp\":1700000060,\"room\":[\"r1\",\"r2\"]}";
    expect_hs_ok(one, "r1", "a", "a", NULL);
    expect_hs_ok(one, NULL, "a", "a", NULL);
    expect_hs_fail(one, "r2", AUTH_ERR_FORBIDDEN, "room not allowed");
    expect_hs_ok(list, "r2", "a", "a", NULL);
    expect_hs_ok(list, NULL, "a", "a", NULL);
    expect_hs_fail(list, "r3", AUTH_ERR_FORBIDDEN, "room not allowed");
    expect_hs_fail(list, "r", AUTH_ERR_FORBIDDEN, "room not allowed");
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1700000060,\"room\":[]}", "r1", AUTH_ERR_FORBIDDEN,
                   "room not allowed");
    /* Without a room claim any room is fine. */
    expect_hs_ok("{\"sub\":\"a\",\"exp\":1700000060}", "anything", "a", "a", NULL);
}

static void room_claim_wrong_type(void **state) {
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1700000060,\"room\":7}", "r1", AUTH_ERR_UNAUTHORIZED,
                   NULL);
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1700000060,\"room\":{\"r1\":1}}", NULL,
                   AUTH_ERR_UNAUTHORIZED, NULL);
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1700000060,\"room\":[\"r1\",2]}", "r1",
                   AUTH_ERR_UNAUTHORIZED, NULL);
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1700000060,\"room\":null}", NULL, AUTH_ERR_UNAUTHORIZED,
                   NULL);
}

/* An expired token for the wrong room is unauthorized, not forbidden. */
static void expired_beats_forbidden(void **state) {
    expect_hs_fail("{\"sub\":\"a\",\"exp\":1600000000,\"room\":\"r1\"}", "r2",
                   AUTH_ERR_UNAUTHORIZED, "expired");
}

/* ---------------------------------------------------------------------------
 * Hostile input
 * ------------------------------------------------------------------------- */

static void garbage_refused(void **state) {
    static const char *const bad[] = {
        "",
        "a",
        ".",
        "..",
        "...",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9..sig",
        ".eyJzdWIiOiJhIn0.sig",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.",
        "eyJhbGciOiJIUzI1NiJ9.e30.!!!",
        "eyJhbGciOiJIUzI1NiJ9.W10.c2ln",    /* payload [] */
        "eyJhbGciOiJIUzI1NiJ9.bnVsbA.c2ln", /* payload null */
        "eyJhbGciOiJIUzI1NiJ9.eyJ9.c2ln",   /* payload {" */
        "W10.e30.c2ln",                     /* header [] */
        "e30.e30.c2ln",                     /* header {} */
        "eyJhbGciOjF9.e30.c2ln",            /* alg 1 */
        "eyJhbGci OiJIUzI1NiJ9.e30.c2ln",   /* space */
        "eyJhbGciOiJIUzI1NiJ9\n.e30.c2ln",  /* newline */
        "\xff\xfe.\x80.\x01",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
    };
    struct auth_params p = hs_params();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_fail(&p, bad[i], "r1", AUTH_ERR_UNAUTHORIZED, NULL);
    expect_fail(&p, NULL, "r1", AUTH_ERR_UNAUTHORIZED, "missing token");

    /* A wrong typ is refused (libjwt refuses it too). */
    char *t = hand_token("{\"alg\":\"HS256\",\"typ\":\"JOSE\"}", "{\"sub\":\"a\"}", "c2ln");
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "malformed");
    free(t);
    /* Duplicate claims are refused rather than guessed at. */
    t = hand_token("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"sub\":\"b\"}", "c2ln");
    expect_fail(&p, t, NULL, AUTH_ERR_UNAUTHORIZED, "malformed");
    free(t);
}

static void every_prefix_and_mutation_refused(void **state) {
    struct auth_params p = hs_params();
    char *t = mint_hs("{\"sub\":\"a\",\"exp\":1700000060,\"room\":[\"r1\"]}");
    size_t len = strlen(t);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, t, i);
        copy[i] = '\0';
        expect_fail(&p, copy, "r1", AUTH_ERR_UNAUTHORIZED, NULL);
    }
    /* Replace each byte by one that is surely different in meaning. */
    for (size_t i = 0; i < len; i++) {
        static const char subs[] = {'.', '*', '\x01', '\xc3'};
        for (size_t k = 0; k < sizeof(subs); k++) {
            memcpy(copy, t, len + 1);
            if (copy[i] == subs[k])
                continue;
            copy[i] = subs[k];
            expect_fail(&p, copy, "r1", AUTH_ERR_UNAUTHORIZED, NULL);
        }
    }
    free(copy);
    free(t);
}

static void overlong_token(void **state) {
    struct auth_params p = hs_params();
    char *big = malloc(AUTH_MAX_TOKEN + 2);
    assert_non_null(big);
    memset(big, 'a', AUTH_MAX_TOKEN + 1);
    big[AUTH_MAX_TOKEN + 1] = '\0';
    expect_fail(&p, big, NULL, AUTH_ERR_UNAUTHORIZED, "token too long");
    free(big);

    /* A genuine token just over the limit is refused; just under, kept. */
    char *claims = malloc(AUTH_MAX_TOKEN + 128);
    assert_non_null(claims);
    int kept = 0, refused = 0;
    for (size_t pad = 5900; pad < 6300; pad += 1) {
        char *fill = malloc(pad + 1);
        assert_non_null(fill);
        memset(fill, 'p', pad);
        fill[pad] = '\0';
        snprintf(claims, AUTH_MAX_TOKEN + 128, "{\"sub\":\"a\",\"exp\":1700000060,\"pad\":\"%s\"}",
                 fill);
        free(fill);
        char *t = mint_hs(claims);
        size_t len = strlen(t);
        struct auth_identity id = {0};
        const char *why;
        int rc = auth_verify(&p, t, NULL, NOW, &id, &why);
        if (len <= AUTH_MAX_TOKEN) {
            assert_int_equal(rc, AUTH_OK);
            auth_identity_clear(&id);
            kept++;
        } else {
            refused++;
            assert_int_equal(rc, AUTH_ERR_UNAUTHORIZED);
            assert_string_equal(why, "token too long");
        }
        free(t);
        if (len > AUTH_MAX_TOKEN + 8)
            break;
    }
    free(claims);
    assert_true(kept > 0);
    assert_true(refused > 0);
}

static void alg_names(void **state) {
    enum auth_alg a;
    static const char *const names[] = {"HS256", "HS384", "HS512", "RS256", "ES256"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(auth_alg_parse(names[i], &a), 0);
        assert_string_equal(auth_alg_name(a), names[i]);
    }
    assert_int_equal(auth_alg_parse("hs256", &a), -1);
    assert_int_equal(auth_alg_parse("none", &a), -1);
    assert_int_equal(auth_alg_parse("RS384", &a), -1);
    assert_int_equal(auth_alg_parse("", &a), -1);
    assert_int_equal(auth_alg_parse(NULL, &a), -1);
}

static void clear_is_idempotent(void **state) {
    struct auth_identity id = {0};
    auth_identity_clear(&id);
    auth_identity_clear(&id);
    auth_identity_clear(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_token),
        cmocka_unit_test(why_may_be_null),
        cmocka_unit_test(bad_signature),
        cmocka_unit_test(alg_none_refused),
        cmocka_unit_test(wrong_alg_refused),
        cmocka_unit_test(algorithm_confusion_refused),
        cmocka_unit_test(rs256_good),
        cmocka_unit_test(es256_good),
        cmocka_unit_test(rs256_token_with_other_key),
        cmocka_unit_test(no_key_refused),
        cmocka_unit_test(expired),
        cmocka_unit_test(exp_within_leeway),
        cmocka_unit_test(exp_missing_or_bad),
        cmocka_unit_test(nbf_honoured),
        cmocka_unit_test(zero_leeway),
        cmocka_unit_test(sub_rules),
        cmocka_unit_test(sub_length),
        cmocka_unit_test(name_fallbacks),
        cmocka_unit_test(name_truncated_at_utf8_boundary),
        cmocka_unit_test(role_present_or_absent),
        cmocka_unit_test(room_claim),
        cmocka_unit_test(room_claim_wrong_type),
        cmocka_unit_test(expired_beats_forbidden),
        cmocka_unit_test(garbage_refused),
        cmocka_unit_test(every_prefix_and_mutation_refused),
        cmocka_unit_test(overlong_token),
        cmocka_unit_test(alg_names),
        cmocka_unit_test(clear_is_idempotent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
