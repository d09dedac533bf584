/*
 * Unit tests for common/config: defaults, each type's parsing and errors,
 * REDIS_URL forms, STUN list forms, JWT keys, help and the redacted log.
 * Variables come from a table here instead of the real environment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* A NULL-terminated list of name, value pairs. */
struct env {
    const char *vars[64][2];
};

static const char *env_get(const char *name, void *data) {
    const struct env *env = data;
    for (size_t i = 0; env->vars[i][0]; i++)
        if (strcmp(env->vars[i][0], name) == 0)
            return env->vars[i][1];
    return NULL;
}

/* Loads env (with JWT_SECRET=s unless env sets it); asserts success. */
static void load_ok(struct config *cfg, struct env *env) {
    char err[256] = "";
    size_t n = 0;
    bool has_secret = false;
    while (env->vars[n][0]) {
        if (strcmp(env->vars[n][0], "JWT_SECRET") == 0)
            has_secret = true;
        n++;
    }
    if (!has_secret) {
        env->vars[n][0] = "JWT_SECRET";
        env->vars[n][1] = "s";
    }
    int rc = config_load(cfg, env_get, env, err, sizeof(err));
    if (rc != 0)
        fail_msg("config_load failed: %s", err);
    assert_string_equal(err, "");
}

/* Loads name=value (plus JWT_SECRET=s); asserts failure with an error that
 * starts with prefix. The config is freed. */
static void load_fails(const char *name, const char *value, const char *prefix) {
    struct env env = {{{name, value}, {"JWT_SECRET", "s"}}};
    struct config cfg;
    char err[256] = "";
    assert_int_equal(config_load(&cfg, env_get, &env, err, sizeof(err)), -1);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
    assert_null(strchr(err, '\n'));
    config_free(&cfg);
}

static void load_one(struct config *cfg, const char *name, const char *value) {
    struct env env = {{{name, value}}};
    load_ok(cfg, &env);
}

static char *data_path(const char *name) {
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, name);
    return path;
}

/* ---------------------------------------------------------------------------
 * Defaults
 * ------------------------------------------------------------------------- */

static void defaults(void **state) {
    struct config cfg;
    struct env env = {{{NULL}}};
    load_ok(&cfg, &env);
    assert_string_equal(cfg.bind, "0.0.0.0");
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.static_dir, "");
    assert_int_equal(cfg.max_connections, 20000);
    assert_string_equal(cfg.redis_url, "redis://127.0.0.1:6379/0");
    assert_string_equal(cfg.redis_host, "127.0.0.1");
    assert_int_equal(cfg.redis_port, 6379);
    assert_int_equal(cfg.redis_db, 0);
    assert_null(cfg.redis_password);
    assert_int_equal(cfg.redis_timeout_ms, 2000);
    assert_int_equal(cfg.jwt_alg, AUTH_HS256);
    assert_string_equal(cfg.jwt_secret, "s");
    assert_string_equal(cfg.jwt_public_key_file, "");
    assert_int_equal(cfg.jwt_key_len, 1);
    assert_memory_equal(cfg.jwt_key, "s", 1);
    assert_int_equal(cfg.jwt_leeway_s, 30);
    assert_true(cfg.jwt_require_exp);
    assert_int_equal(cfg.max_participants, 6);
    assert_int_equal(cfg.max_message_bytes, 65536);
    assert_int_equal(cfg.rate_burst, 200);
    assert_int_equal(cfg.rate_per_sec, 100);
    assert_int_equal(cfg.rate_close_s, 5);
    assert_int_equal(cfg.out_queue_messages, 1024);
    assert_int_equal(cfg.out_queue_bytes, 4194304);
    assert_int_equal(cfg.grace_s, 10);
    assert_int_equal(cfg.ping_interval_s, 20);
    assert_int_equal(cfg.idle_timeout_s, 60);
    assert_int_equal(cfg.node_ttl_s, 5);
    assert_int_equal(cfg.drain_s, 5);
    assert_int_equal(cfg.bad_token_burst, 20);
    assert_int_equal(cfg.bad_token_per_min, 30);
    assert_false(cfg.trust_forwarded_for);
    assert_int_equal(cfg.stun_count, 2);
    assert_string_equal(cfg.stun_urls[0], "stun:stun.l.google.com:19302");
    assert_string_equal(cfg.stun_urls[1], "stun:stun1.l.google.com:19302");
    assert_string_equal(cfg.turn_url, "");
    assert_string_equal(cfg.turn_username, "");
    assert_string_equal(cfg.turn_credential, "");
    assert_string_equal(cfg.turn_secret, "");
    assert_int_equal(cfg.turn_ttl_s, 3600);
    assert_string_equal(cfg.livekit_url, "http://localhost:7880");
    assert_string_equal(cfg.livekit_api_key, "devkey");
    assert_string_equal(cfg.livekit_api_secret, "secret");
    assert_int_equal(cfg.livekit_ttl_s, 3600);
    assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);

    /* NODE_ID: <hostname>-<pid>-<4 hex>, valid for key names. */
    char tail[32];
    snprintf(tail, sizeof(tail), "-%ld-", (long)getpid());
    size_t n = strlen(cfg.node_id);
    assert_true(n >= strlen(tail) + 4 && n <= 64);
    assert_int_equal(strspn(cfg.node_id + n - 4, "0123456789abcdef"), 4);
    assert_memory_equal(cfg.node_id + n - 4 - strlen(tail), tail, strlen(tail));
    assert_int_equal(strspn(cfg.node_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789_.-"),
                     n);
    config_free(&cfg);
}

static void values_are_read(void **state) {
    struct config cfg;
    struct env env = {{
        {"BIND", "127.0.0.1"},
        {"PORT", "9000"},
        {"MAX_MESSAGE_BYTES", "2048"},
        {"JWT_LEEWAY_SECONDS", "0"},
        {"JWT_REQUIRE_EXP", "no"},
        {"LOG_LEVEL", "DEBUG"},
        {"JWT_ALGORITHM", "HS512"},
        {"JWT_SECRET", "a longer secret"},
        {"WEBRTC_TURN_URL", "turn:t.example:3478"},
        {"LIVEKIT_API_SECRET", "lk"},
        {"NODE_ID", "node_1.a-b"},
    }};
    load_ok(&cfg, &env);
    assert_string_equal(cfg.bind, "127.0.0.1");
    assert_int_equal(cfg.port, 9000);
    assert_int_equal(cfg.max_message_bytes, 2048);
    assert_int_equal(cfg.jwt_leeway_s, 0);
    assert_false(cfg.jwt_require_exp);
    assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(cfg.jwt_alg, AUTH_HS512);
    assert_int_equal(cfg.jwt_key_len, strlen("a longer secret"));
    assert_memory_equal(cfg.jwt_key, "a longer secret", cfg.jwt_key_len);
    assert_string_equal(cfg.turn_url, "turn:t.example:3478");
    assert_string_equal(cfg.livekit_api_secret, "lk");
    assert_string_equal(cfg.node_id, "node_1.a-b");
    config_free(&cfg);
}

/* ---------------------------------------------------------------------------
 * Types and their errors
 * ------------------------------------------------------------------------- */

static void int_errors(void **state) {
    static const char *const bad[] = {
        "x", "80x", "0", "65536", "99999999999999999999", "", " 80", "80 ", "-1", "0x50", "8e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        load_fails("PORT", bad[i], "PORT: expected an integer from 1 to 65535, got \"");
    load_fails("WEBRTC_MAX_PARTICIPANTS", "0", "WEBRTC_MAX_PARTICIPANTS: expected an integer");
    load_fails("WEBRTC_TURN_TTL", "59", "WEBRTC_TURN_TTL: expected an integer from 60");

    struct config cfg;
    load_one(&cfg, "PORT", "65535");
    assert_int_equal(cfg.port, 65535);
    config_free(&cfg);
    load_one(&cfg, "PORT", "1");
    assert_int_equal(cfg.port, 1);
    config_free(&cfg);
}

static void error_shows_value(void **state) {
    struct env env = {{{"PORT", "80x"}, {"JWT_SECRET", "s"}}};
    struct config cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, env_get, &env, err, sizeof(err)), -1);
    assert_string_equal(err, "PORT: expected an integer from 1 to 65535, got \"80x\"");
    config_free(&cfg);

    /* Control characters are escaped, long values cut. */
    char big[300];
    memset(big, '7', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[1] = '\n';
    struct env env2 = {{{"PORT", big}, {"JWT_SECRET", "s"}}};
    assert_int_equal(config_load(&cfg, env_get, &env2, err, sizeof(err)), -1);
    assert_null(strchr(err, '\n'));
    assert_non_null(strstr(err, "got \"7\\x0a777"));
    assert_non_null(strstr(err, "...\""));
    config_free(&cfg);
}

static void size_errors(void **state) {
    static const char *const bad[] = {"1k", "-1", "1023", "16777217", "", "64KB"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        load_fails("MAX_MESSAGE_BYTES", bad[i],
                   "MAX_MESSAGE_BYTES: expected a size in bytes from 1024 to 16777216");
    struct config cfg;
    load_one(&cfg, "OUT_QUEUE_MAX_BYTES", "1073741824");
    assert_int_equal(cfg.out_queue_bytes, 1073741824);
    config_free(&cfg);
}

static void bool_values(void **state) {
    static const struct {
        const char *in;
        bool out;
    } good[] = {{"true", true}, {"TRUE", true},   {"1", true},  {"yes", true},
                {"Yes", true},  {"false", false}, {"0", false}, {"no", false}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct config cfg;
        load_one(&cfg, "JWT_REQUIRE_EXP", good[i].in);
        assert_int_equal(cfg.jwt_require_exp, good[i].out);
        config_free(&cfg);
    }
    static const char *const bad[] = {"maybe", "", "2", "on", "truee"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        load_fails("JWT_REQUIRE_EXP", bad[i],
                   "JWT_REQUIRE_EXP: expected true/false, 1/0 or yes/no, got \"");
}

static void enum_values(void **state) {
    struct config cfg;
    load_one(&cfg, "LOG_LEVEL", "warning");
    assert_int_equal(cfg.log_level, LOG_LEVEL_WARN);
    config_free(&cfg);
    load_fails("LOG_LEVEL", "verbose", "LOG_LEVEL: expected debug, info, warn or error, got");
    load_fails("JWT_ALGORITHM", "hs256", "JWT_ALGORITHM: expected HS256, HS384, HS512, RS256");
    load_fails("JWT_ALGORITHM", "none", "JWT_ALGORITHM: expected");
    load_fails("JWT_ALGORITHM", "RS512", "JWT_ALGORITHM: expected");
}

static void node_id_rules(void **state) {
    char id[70];
    memset(id, 'n', 64);
    id[64] = '\0';
    struct config cfg;
    load_one(&cfg, "NODE_ID", id);
    assert_string_equal(cfg.node_id, id);
    config_free(&cfg);
    id[64] = 'n';
    id[65] = '\0';
    load_fails("NODE_ID", id, "NODE_ID: expected 1 to 64 characters");
    load_fails("NODE_ID", "", "NODE_ID: expected 1 to 64 characters");
    load_fails("NODE_ID", "a b", "NODE_ID: expected");
    load_fails("NODE_ID", "a:b", "NODE_ID: expected");
    load_fails("NODE_ID", "a{b}", "NODE_ID: expected");
}

/* ---------------------------------------------------------------------------
 * REDIS_URL
 * ------------------------------------------------------------------------- */

static void expect_redis(const char *url, const char *host, int port, int db, const char *pw) {
    struct config cfg;
    load_one(&cfg, "REDIS_URL", url);
    assert_string_equal(cfg.redis_url, url);
    assert_string_equal(cfg.redis_host, host);
    assert_int_equal(cfg.redis_port, port);
    assert_int_equal(cfg.redis_db, db);
    if (pw)
        assert_string_equal(cfg.redis_password, pw);
    else
        assert_null(cfg.redis_password);
    config_free(&cfg);
}

static void redis_url_forms(void **state) {
    expect_redis("redis://h", "h", 6379, 0, NULL);
    expect_redis("redis://h/", "h", 6379, 0, NULL);
    expect_redis("redis://redis.internal:7000/3", "redis.internal", 7000, 3, NULL);
    expect_redis("redis://:pw@h:1/2", "h", 1, 2, "pw");
    expect_redis("redis://user:pw@h", "h", 6379, 0, "pw");
    expect_redis("redis://default:p%40ss%2Fw:rd@h:6380", "h", 6380, 0, "p@ss/w:rd");
    expect_redis("redis://:a@b@h", "h", 6379, 0, "a@b");
    expect_redis("redis://user@h:6000", "h", 6000, 0, NULL);
    expect_redis("redis://:@h", "h", 6379, 0, NULL);
    expect_redis("redis://[::1]:6380/1", "::1", 6380, 1, NULL);
    expect_redis("REDIS://h", "h", 6379, 0, NULL);
}

static void redis_url_errors(void **state) {
    load_fails("REDIS_URL", "http://h", "REDIS_URL: expected redis://[:password@]host[:port][/db]");
    load_fails("REDIS_URL", "h:6379", "REDIS_URL: expected redis://");
    load_fails("REDIS_URL", "rediss://h", "REDIS_URL: expected redis://");
    load_fails("REDIS_URL", "redis://", "REDIS_URL: expected redis://");
    load_fails("REDIS_URL", "redis://:pw@", "REDIS_URL: expected redis://");
    load_fails("REDIS_URL", "redis://h:0", "REDIS_URL: expected a port from 1 to 65535, got \"0\"");
    load_fails("REDIS_URL", "redis://h:", "REDIS_URL: expected a port from 1 to 65535, got \"\"");
    load_fails("REDIS_URL", "redis://h:abc/1", "REDIS_URL: expected a port");
    load_fails("REDIS_URL", "redis://h:99999999999999999999", "REDIS_URL: expected a port");
    load_fails("REDIS_URL", "redis://h/x", "REDIS_URL: expected a database number");
    load_fails("REDIS_URL", "redis://h:1/2?timeout=3", "REDIS_URL: expected a database number");
    load_fails("REDIS_URL", "redis://[::1", "REDIS_URL: expected ']'");
    load_fails("REDIS_URL", "redis://[::1]x", "REDIS_URL: expected ':port' or '/db'");
    load_fails("REDIS_URL", "redis://:p%4@h", "REDIS_URL: expected a password with valid");
    load_fails("REDIS_URL", "redis://:p%00@h", "REDIS_URL: expected a password with valid");
}

static void redis_password_never_echoed(void **state) {
    static const char *const bad[] = {"redis://:hunter2@h:abc", "redis://:hunter2@",
                                      "redis://:hunter2@h/x", "ftp://:hunter2@h",
                                      "redis://:hunter2%zz@h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct env env = {{{"REDIS_URL", bad[i]}, {"JWT_SECRET", "s"}}};
        struct config cfg;
        char err[256];
        assert_int_equal(config_load(&cfg, env_get, &env, err, sizeof(err)), -1);
        assert_null(strstr(err, "hunter2"));
        config_free(&cfg);
    }
}

/* ---------------------------------------------------------------------------
 * STUN list
 * ------------------------------------------------------------------------- */

static void expect_stun(const char *value, size_t count, const char *first, const char *last) {
    struct config cfg;
    load_one(&cfg, "WEBRTC_STUN_URLS", value);
    assert_int_equal(cfg.stun_count, count);
    if (count) {
        assert_string_equal(cfg.stun_urls[0], first);
        assert_string_equal(cfg.stun_urls[count - 1], last);
    }
    config_free(&cfg);
}

static void stun_list_forms(void **state) {
    expect_stun("[\"stun:a\",\"stun:b\"]", 2, "stun:a", "stun:b");
    expect_stun("  [ \" stun:a \", \"\", \"stun:b\" ] ", 2, "stun:a", "stun:b");
    expect_stun("stun:a,stun:b,stun:c", 3, "stun:a", "stun:c");
    expect_stun(" stun:a , ,stun:b,, ", 2, "stun:a", "stun:b");
    expect_stun("stun:only", 1, "stun:only", "stun:only");
    expect_stun("", 0, NULL, NULL);
    expect_stun("  ", 0, NULL, NULL);
    expect_stun("[]", 0, NULL, NULL);
    expect_stun(",,", 0, NULL, NULL);
}

static void stun_list_errors(void **state) {
    static const char *const bad[] = {"[", "[\"stun:a\",1]", "[\"stun:a\"] x", "[[\"a\"]]",
                                      "[null]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        load_fails("WEBRTC_STUN_URLS", bad[i],
                   "WEBRTC_STUN_URLS: expected a JSON list of strings or a comma-separated list");
}

/* ---------------------------------------------------------------------------
 * JWT keys
 * ------------------------------------------------------------------------- */

static void jwt_secret_required(void **state) {
    static const char *const algs[] = {"HS256", "HS384", "HS512"};
    for (size_t i = 0; i < 3; i++) {
        struct env env = {{{"JWT_ALGORITHM", algs[i]}}};
        struct config cfg;
        char err[256];
        assert_int_equal(config_load(&cfg, env_get, &env, err, sizeof(err)), -1);
        char want[128];
        snprintf(want, sizeof(want), "JWT_SECRET: expected a non-empty secret for %s, got nothing",
                 algs[i]);
        assert_string_equal(err, want);
        config_free(&cfg);
    }
    struct env env = {{{"JWT_SECRET", ""}}};
    struct config cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, env_get, &env, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "JWT_SECRET"));
    config_free(&cfg);
}

static void load_key(const char *alg, const char *file, const char *data_file) {
    struct env env = {{{"JWT_ALGORITHM", alg}, {"JWT_PUBLIC_KEY_FILE", file}}};
    struct config cfg;
    char err[256] = "";
    if (config_load(&cfg, env_get, &env, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    FILE *f = fopen(data_path(data_file), "rb");
    assert_non_null(f);
    char want[8192];
    size_t n = fread(want, 1, sizeof(want), f);
    fclose(f);
    assert_int_equal(cfg.jwt_key_len, n);
    assert_memory_equal(cfg.jwt_key, want, n);
    assert_int_equal(cfg.jwt_key[n], '\0');
    config_free(&cfg);
}

static void jwt_public_key_file(void **state) {
    char path[512];
    snprintf(path, sizeof(path), "%s", data_path("rs256_public.pem"));
    load_key("RS256", path, "rs256_public.pem");
    snprintf(path, sizeof(path), "%s", data_path("es256_public.pem"));
    load_key("ES256", path, "es256_public.pem");
}

static void key_fails(const char *alg, const char *file, const char *prefix) {
    struct env env = {{{"JWT_ALGORITHM", alg}, {"JWT_PUBLIC_KEY_FILE", file}}};
    struct config cfg;
    char err[512] = "";
    assert_int_equal(config_load(&cfg, env_get, &env, err, sizeof(err)), -1);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
    config_free(&cfg);
}

static void jwt_public_key_errors(void **state) {
    char path[512];
    key_fails("RS256", "", "JWT_PUBLIC_KEY_FILE: expected a PEM file for RS256, got nothing");
    {
        struct env env = {{{"JWT_ALGORITHM", "ES256"}, {"JWT_SECRET", "s"}}};
        struct config cfg;
        char err[256];
        assert_int_equal(config_load(&cfg, env_get, &env, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "JWT_PUBLIC_KEY_FILE"));
        config_free(&cfg);
    }
    key_fails("RS256", "/nonexistent/key.pem",
              "JWT_PUBLIC_KEY_FILE: expected a readable file, got \"/nonexistent/key.pem\"");
    snprintf(path, sizeof(path), "%s", data_path("es256_public.pem"));
    key_fails("RS256", path, "JWT_PUBLIC_KEY_FILE: expected an RSA key for RS256");
    snprintf(path, sizeof(path), "%s", data_path("rs256_public.pem"));
    key_fails("ES256", path, "JWT_PUBLIC_KEY_FILE: expected a P-256 EC key for ES256");
    snprintf(path, sizeof(path), "%s", data_path("README.md"));
    key_fails("RS256", path, "JWT_PUBLIC_KEY_FILE: expected a PEM public key");
    /* A private key is not a public key. */
    snprintf(path, sizeof(path), "%s", data_path("rs256_private.pem"));
    key_fails("RS256", path, "JWT_PUBLIC_KEY_FILE: expected a PEM public key");

    char tmp[] = "/tmp/signald-test-key-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    key_fails("RS256", tmp, "JWT_PUBLIC_KEY_FILE: expected a PEM public key of 1 to 65536 bytes");
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    for (int i = 0; i < 70000; i++)
        fputc('k', f);
    fclose(f);
    key_fails("RS256", tmp, "JWT_PUBLIC_KEY_FILE: expected a PEM public key of 1 to 65536 bytes");
    unlink(tmp);
}

/* ---------------------------------------------------------------------------
 * Freeing, help, log
 * ------------------------------------------------------------------------- */

static void free_is_safe(void **state) {
    struct config cfg;
    memset(&cfg, 0, sizeof(cfg));
    config_free(&cfg);
    config_free(&cfg);
    config_free(NULL);

    /* A failure late in the table, after strings and lists were made. */
    struct env env = {{{"REDIS_URL", "redis://:pw@h"},
                       {"WEBRTC_STUN_URLS", "a,b"},
                       {"LOG_LEVEL", "loud"},
                       {"JWT_SECRET", "s"}}};
    char err[256];
    assert_int_equal(config_load(&cfg, env_get, &env, err, sizeof(err)), -1);
    config_free(&cfg);
    config_free(&cfg);

    /* A failure in the JWT check, after the whole table. */
    struct env env2 = {{{"REDIS_URL", "redis://:pw@h"}, {"JWT_ALGORITHM", "RS256"}}};
    assert_int_equal(config_load(&cfg, env_get, &env2, err, sizeof(err)), -1);
    config_free(&cfg);

    /* No getter: defaults, which fail only for want of JWT_SECRET. */
    assert_int_equal(config_load(&cfg, NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "JWT_SECRET"));
    config_free(&cfg);
}

static const char *const all_names[] = {
    "BIND",
    "PORT",
    "STATIC_DIR",
    "MAX_CONNECTIONS",
    "REDIS_URL",
    "REDIS_TIMEOUT_MS",
    "NODE_ID",
    "JWT_ALGORITHM",
    "JWT_SECRET",
    "JWT_PUBLIC_KEY_FILE",
    "JWT_LEEWAY_SECONDS",
    "JWT_REQUIRE_EXP",
    "WEBRTC_MAX_PARTICIPANTS",
    "MAX_MESSAGE_BYTES",
    "RATE_LIMIT_BURST",
    "RATE_LIMIT_PER_SECOND",
    "RATE_LIMIT_CLOSE_SECONDS",
    "OUT_QUEUE_MAX_MESSAGES",
    "OUT_QUEUE_MAX_BYTES",
    "RECONNECT_GRACE_SECONDS",
    "PING_INTERVAL_SECONDS",
    "IDLE_TIMEOUT_SECONDS",
    "NODE_TTL_SECONDS",
    "DRAIN_SECONDS",
    "BAD_TOKEN_BURST",
    "BAD_TOKEN_PER_MINUTE",
    "TRUST_FORWARDED_FOR",
    "WEBRTC_STUN_URLS",
    "WEBRTC_TURN_URL",
    "WEBRTC_TURN_USERNAME",
    "WEBRTC_TURN_CREDENTIAL",
    "WEBRTC_TURN_SECRET",
    "WEBRTC_TURN_TTL",
    "LIVEKIT_URL",
    "LIVEKIT_API_KEY",
    "LIVEKIT_API_SECRET",
    "LIVEKIT_TOKEN_TTL",
    "LOG_LEVEL",
};

#define ALL_NAMES (sizeof(all_names) / sizeof(all_names[0]))

/* Whole-word search: "PORT" must not match inside "...PORT_X". */
static bool has_word(const char *text, const char *word) {
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        bool start = p == text || !(p[-1] == '_' || (p[-1] >= 'A' && p[-1] <= 'Z'));
        bool end = !(p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z'));
        if (start && end)
            return true;
    }
    return false;
}

static void help_mentions_every_variable(void **state) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    config_print_help(f);
    fclose(f);
    for (size_t i = 0; i < ALL_NAMES; i++)
        if (!has_word(text, all_names[i]))
            fail_msg("help does not mention %s", all_names[i]);
    assert_non_null(strstr(text, "default 8080, 1..65535"));
    assert_non_null(strstr(text, "stun:stun.l.google.com:19302"));
    free(text);
}

static void log_redacts_secrets(void **state) {
    struct config cfg;
    struct env env = {{
        {"JWT_SECRET", "jwt-hunter2"},
        {"REDIS_URL", "redis://:redis-hunter2@cache:6380/2"},
        {"WEBRTC_TURN_CREDENTIAL", "turn-hunter2"},
        {"LIVEKIT_API_SECRET", "lk-hunter2"},
        {"STATIC_DIR", "/srv/my files"},
    }};
    load_ok(&cfg, &env);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    log_set_stream(f);
    log_init(LOG_LEVEL_INFO, NULL);
    config_log(&cfg);
    log_set_stream(NULL);
    fclose(f);

    assert_null(strstr(text, "hunter2"));
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, ALL_NAMES);
    for (size_t i = 0; i < ALL_NAMES; i++) {
        char key[64];
        snprintf(key, sizeof(key), "event=config %s=", all_names[i]);
        if (!strstr(text, key))
            fail_msg("log has no %s", key);
    }
    assert_non_null(strstr(text, "event=config PORT=8080\n"));
    assert_non_null(strstr(text, "event=config JWT_SECRET=(set)\n"));
    assert_non_null(strstr(text, "event=config WEBRTC_TURN_CREDENTIAL=(set)\n"));
    assert_non_null(strstr(text, "event=config WEBRTC_TURN_SECRET=(unset)\n"));
    assert_non_null(strstr(text, "event=config LIVEKIT_API_SECRET=(set)\n"));
    assert_non_null(strstr(text, "event=config REDIS_URL=redis://cache:6380/2 password=(set)\n"));
    assert_non_null(strstr(text, "event=config STATIC_DIR=\"/srv/my files\"\n"));
    assert_non_null(strstr(text, "event=config WEBRTC_STUN_URLS=stun:stun.l.google.com:19302,"
                                 "stun:stun1.l.google.com:19302\n"));
    assert_non_null(strstr(text, "event=config JWT_ALGORITHM=HS256\n"));
    assert_non_null(strstr(text, "event=config JWT_REQUIRE_EXP=true\n"));
    assert_non_null(strstr(text, "event=config LOG_LEVEL=info\n"));
    free(text);
    config_free(&cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(values_are_read),
        cmocka_unit_test(int_errors),
        cmocka_unit_test(error_shows_value),
        cmocka_unit_test(size_errors),
        cmocka_unit_test(bool_values),
        cmocka_unit_test(enum_values),
        cmocka_unit_test(node_id_rules),
        cmocka_unit_test(redis_url_forms),
        cmocka_unit_test(redis_url_errors),
        cmocka_unit_test(redis_password_never_echoed),
        cmocka_unit_test(stun_list_forms),
        cmocka_unit_test(stun_list_errors),
        cmocka_unit_test(jwt_secret_required),
        cmocka_unit_test(jwt_public_key_file),
        cmocka_unit_test(jwt_public_key_errors),
        cmocka_unit_test(free_is_safe),
        cmocka_unit_test(help_mentions_every_variable),
        cmocka_unit_test(log_redacts_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
