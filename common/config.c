/*
 * config: see config.h.
 *
 * One table, config_settings[], holds every setting: its environment name,
 * type, default (written the way a user would write the variable), bounds,
 * secret flag, help line and the field it fills. Loading, --help and the
 * start-up log all walk that table, so a new setting is one row (plus the
 * struct field). Defaults go through the same parser as user values.
 *
 * Settings that depend on each other (the JWT algorithm and its key) are
 * checked after the table has been read, in config_check_jwt.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

/* ---------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------- */

enum config_type {
    CONFIG_STRING,
    CONFIG_INT,       /* int within [min, max] */
    CONFIG_SIZE,      /* size_t within [min, max] */
    CONFIG_BOOL,      /* true/false, 1/0, yes/no (any case) */
    CONFIG_LOG_LEVEL, /* log_level_parse */
    CONFIG_JWT_ALG,   /* auth_alg_parse */
    CONFIG_STR_LIST,  /* JSON list of strings or comma list; count at count_offset */
    CONFIG_REDIS_URL, /* string, also parsed into redis_host/port/db/password */
    CONFIG_NODE_ID,   /* string of [A-Za-z0-9_.-]{1,64}; generated when unset */
};

struct config_setting {
    const char *name;
    enum config_type type;
    size_t offset;
    size_t count_offset; /* CONFIG_STR_LIST only */
    const char *def;     /* NULL: computed at load (NODE_ID) */
    long long min, max;  /* CONFIG_INT and CONFIG_SIZE */
    bool secret;         /* never printed or echoed in errors */
    const char *help;
};

#define CONFIG_NODE_ID_MAX 64

#define FIELD(f) offsetof(struct config, f)
#define STR(n, f, d, help)                                                                         \
    { n, CONFIG_STRING, FIELD(f), 0, d, 0, 0, false, help }
#define SECRET(n, f, d, help)                                                                      \
    { n, CONFIG_STRING, FIELD(f), 0, d, 0, 0, true, help }
#define INT(n, f, d, lo, hi, help)                                                                 \
    { n, CONFIG_INT, FIELD(f), 0, d, lo, hi, false, help }
#define SIZE(n, f, d, lo, hi, help)                                                                \
    { n, CONFIG_SIZE, FIELD(f), 0, d, lo, hi, false, help }
#define TYPED(n, t, f, d, help)                                                                    \
    { n, t, FIELD(f), 0, d, 0, 0, false, help }

static const struct config_setting config_settings[] = {
    STR("BIND", bind, "0.0.0.0", "Address to listen on."),
    INT("PORT", port, "8080", 1, 65535, "TCP port for WebSocket and HTTP."),
    STR("STATIC_DIR", static_dir, "", "Directory of static files to serve; empty serves none."),
    INT("MAX_CONNECTIONS", max_connections, "20000", 1, 1000000,
        "Most sockets this node accepts at once."),

    TYPED("REDIS_URL", CONFIG_REDIS_URL, redis_url, "redis://127.0.0.1:6379/0",
          "Cluster store, redis://[:password@]host[:port][/db]."),
    INT("REDIS_TIMEOUT_MS", redis_timeout_ms, "2000", 10, 600000,
        "Connect and command timeout for Redis, in milliseconds."),
    TYPED("NODE_ID", CONFIG_NODE_ID, node_id, NULL,
          "This node's name in the cluster: 1 to 64 of A-Z a-z 0-9 _ . -"),

    TYPED("JWT_ALGORITHM", CONFIG_JWT_ALG, jwt_alg, "HS256",
          "Token signature algorithm: HS256, HS384, HS512, RS256 or ES256."),
    SECRET("JWT_SECRET", jwt_secret, "",
           "Shared secret for HS256/HS384/HS512 (required for them)."),
    STR("JWT_PUBLIC_KEY_FILE", jwt_public_key_file, "",
        "PEM public key file for RS256/ES256 (required for them)."),
    INT("JWT_LEEWAY_SECONDS", jwt_leeway_s, "30", 0, 3600, "Clock leeway for exp and nbf."),
    TYPED("JWT_REQUIRE_EXP", CONFIG_BOOL, jwt_require_exp, "true",
          "Refuse tokens without an exp claim."),

    INT("WEBRTC_MAX_PARTICIPANTS", max_participants, "6", 1, 1000,
        "Most participants in one room, across the cluster."),
    SIZE("MAX_MESSAGE_BYTES", max_message_bytes, "65536", 1024, 16777216,
         "Largest client message; larger ones close the socket with 1009."),
    INT("RATE_LIMIT_BURST", rate_burst, "200", 1, 1000000, "Messages a client may send at once."),
    INT("RATE_LIMIT_PER_SECOND", rate_per_sec, "100", 1, 1000000,
        "Sustained messages per second per client."),
    INT("RATE_LIMIT_CLOSE_SECONDS", rate_close_s, "5", 1, 3600,
        "Seconds of continued excess before closing with 4029."),
    INT("OUT_QUEUE_MAX_MESSAGES", out_queue_messages, "1024", 1, 1000000,
        "Messages queued for a slow client before closing it with 1008."),
    SIZE("OUT_QUEUE_MAX_BYTES", out_queue_bytes, "4194304", 1024, 1073741824,
         "Bytes queued for a slow client before closing it with 1008."),
    INT("RECONNECT_GRACE_SECONDS", grace_s, "10", 0, 3600,
        "How long a dropped participant is held for a quick reconnect."),
    INT("PING_INTERVAL_SECONDS", ping_interval_s, "20", 1, 3600,
        "Idle seconds before the server pings a client."),
    INT("IDLE_TIMEOUT_SECONDS", idle_timeout_s, "60", 1, 86400,
        "Seconds without any traffic before a client is dropped."),
    INT("NODE_TTL_SECONDS", node_ttl_s, "5", 2, 3600,
        "Lifetime of this node's lease; a node silent this long is declared dead and its "
        "members are removed by the others."),
    INT("DRAIN_SECONDS", drain_s, "5", 0, 3600,
        "On SIGTERM, the window over which clients are asked to reconnect (close 1001)."),
    INT("BAD_TOKEN_BURST", bad_token_burst, "20", 1, 1000000,
        "Failed token checks one source address may make at once."),
    INT("BAD_TOKEN_PER_MINUTE", bad_token_per_min, "30", 1, 1000000,
        "Failed token checks one source address may make per minute after the burst."),
    TYPED("TRUST_FORWARDED_FOR", CONFIG_BOOL, trust_forwarded_for, "false",
          "Take the client address from X-Forwarded-For (set it behind a load balancer)."),

    {"WEBRTC_STUN_URLS", CONFIG_STR_LIST, FIELD(stun_urls), FIELD(stun_count),
     "stun:stun.l.google.com:19302,stun:stun1.l.google.com:19302", 0, 0, false,
     "STUN URLs: a JSON list or a comma-separated list; empty for none."},
    STR("WEBRTC_TURN_URL", turn_url, "", "TURN server URL; empty for no TURN."),
    STR("WEBRTC_TURN_USERNAME", turn_username, "", "Static TURN username."),
    SECRET("WEBRTC_TURN_CREDENTIAL", turn_credential, "", "Static TURN credential."),
    SECRET("WEBRTC_TURN_SECRET", turn_secret, "",
           "TURN REST shared secret; when set, ephemeral credentials replace the static ones."),
    INT("WEBRTC_TURN_TTL", turn_ttl_s, "3600", 60, 604800,
        "Lifetime of ephemeral TURN credentials, in seconds."),

    STR("LIVEKIT_URL", livekit_url, "http://localhost:7880", "LiveKit server URL for clients."),
    STR("LIVEKIT_API_KEY", livekit_api_key, "devkey", "LiveKit API key (token issuer)."),
    SECRET("LIVEKIT_API_SECRET", livekit_api_secret, "secret",
           "LiveKit API secret that signs its tokens."),
    INT("LIVEKIT_TOKEN_TTL", livekit_ttl_s, "3600", 60, 604800,
        "Lifetime of LiveKit tokens, in seconds."),

    TYPED("LOG_LEVEL", CONFIG_LOG_LEVEL, log_level, "info", "debug, info, warn or error."),
};

#define CONFIG_COUNT (sizeof(config_settings) / sizeof(config_settings[0]))

static void *config_field(struct config *cfg, size_t offset) {
    return (char *)cfg + offset;
}

static const void *config_cfield(const struct config *cfg, size_t offset) {
    return (const char *)cfg + offset;
}

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

static void config_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void config_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Writes s for a one-line message or log: printable ASCII as is, anything
 * else as \xNN, cut with "..." past about max bytes. */
static void config_escape(const char *s, char *out, size_t outlen, size_t max) {
    size_t n = 0;
    for (size_t i = 0; s[i] && n + 5 < outlen; i++) {
        if (i >= max) {
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, outlen - n, "\\x%02x", c);
    }
    out[n] = '\0';
}

/* "NAME: expected WHAT, got "value"" (the value left out for secrets). */
static void config_expected(const struct config_setting *s, const char *value, char *err,
                            size_t errlen, const char *what) {
    char shown[300];
    if (s->secret) {
        config_err(err, errlen, "%s: expected %s", s->name, what);
        return;
    }
    config_escape(value, shown, sizeof(shown), 64);
    config_err(err, errlen, "%s: expected %s, got \"%s\"", s->name, what, shown);
}

/* ---------------------------------------------------------------------------
 * Value parsers
 * ------------------------------------------------------------------------- */

/* A whole decimal integer within [min, max]: no spaces, no junk, no overflow. */
static int config_parse_ll(const char *s, long long min, long long max, long long *out) {
    if (!s[0] || isspace((unsigned char)s[0]))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int config_parse_bool(const char *s, bool *out) {
    static const char *const yes[] = {"true", "1", "yes"};
    static const char *const no[] = {"false", "0", "no"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static void config_list_free(char **items, size_t count) {
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

/* Appends s[0..len) trimmed to the list unless it is empty. 0 or -1 (OOM). */
static int config_list_add(char ***items, size_t *count, const char *s, size_t len) {
    while (len > 0 && isspace((unsigned char)s[0])) {
        s++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 0)
        return 0;
    char **grown = realloc(*items, (*count + 1) * sizeof(char *));
    if (!grown)
        return -1;
    *items = grown;
    char *copy = strndup(s, len);
    if (!copy)
        return -1;
    grown[(*count)++] = copy;
    return 0;
}

/* Parses a JSON list of strings or a comma-separated list. On success the
 * caller owns *out (count entries, NULL when empty). -1 means bad syntax or
 * OOM; *out is then NULL. */
static int config_parse_list(const char *s, char ***out, size_t *count) {
    char **items = NULL;
    size_t n = 0;
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[') {
        json_t *list = json_loads(s, 0, NULL);
        if (!json_is_array(list)) {
            json_decref(list);
            return -1;
        }
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item) {
            if (!json_is_string(item) ||
                config_list_add(&items, &n, json_string_value(item), json_string_length(item))) {
                json_decref(list);
                config_list_free(items, n);
                return -1;
            }
        }
        json_decref(list);
    } else {
        while (*p) {
            size_t len = strcspn(p, ",");
            if (config_list_add(&items, &n, p, len) != 0) {
                config_list_free(items, n);
                return -1;
            }
            p += len;
            if (*p == ',')
                p++;
        }
    }
    *out = items;
    *count = n;
    return 0;
}

/* Decodes %XX escapes of len bytes of s into a new string; NULL on a bad
 * escape, an escaped NUL, or OOM. */
static char *config_percent_decode(const char *s, size_t len) {
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[n++] = s[i];
            continue;
        }
        char hex[3] = {0};
        if (i + 2 >= len)
            goto bad;
        hex[0] = s[i + 1];
        hex[1] = s[i + 2];
        if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
            goto bad;
        long v = strtol(hex, NULL, 16);
        if (v == 0)
            goto bad;
        out[n++] = (char)v;
        i += 2;
    }
    out[n] = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

#define CONFIG_REDIS_FORM "redis://[:password@]host[:port][/db]"

/* Parses REDIS_URL into redis_host/port/db/password. Errors name the part
 * that is wrong and never echo the password. */
static int config_parse_redis_url(struct config *cfg, const char *url, char *err, size_t errlen) {
    char shown[300];
    if (strncasecmp(url, "rediss://", 9) == 0) {
        config_err(err, errlen, "REDIS_URL: expected %s, got rediss:// (TLS is not supported)",
                   CONFIG_REDIS_FORM);
        return -1;
    }
    if (strncasecmp(url, "redis://", 8) != 0) {
        config_err(err, errlen, "REDIS_URL: expected %s, got a value without redis://",
                   CONFIG_REDIS_FORM);
        return -1;
    }
    const char *rest = url + 8;

    /* The last '@' ends the user info: host, port and db never hold one,
     * while a password may. */
    const char *at = strrchr(rest, '@');
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        /* "user@host" names a user without a password: nothing to send. */
        if (colon && at > colon + 1) {
            cfg->redis_password = config_percent_decode(colon + 1, (size_t)(at - colon - 1));
            if (!cfg->redis_password) {
                config_err(err, errlen, "REDIS_URL: expected a password with valid %%XX escapes");
                return -1;
            }
        }
        rest = at + 1;
    }

    const char *host = rest;
    size_t hostlen;
    const char *after;
    if (*rest == '[') { /* [IPv6] */
        const char *close = strchr(rest, ']');
        if (!close) {
            config_err(err, errlen, "REDIS_URL: expected ']' after an IPv6 host");
            return -1;
        }
        host = rest + 1;
        hostlen = (size_t)(close - host);
        after = close + 1;
    } else {
        hostlen = strcspn(rest, ":/");
        after = rest + hostlen;
    }
    if (hostlen == 0) {
        config_err(err, errlen, "REDIS_URL: expected %s, got no host", CONFIG_REDIS_FORM);
        return -1;
    }
    cfg->redis_host = strndup(host, hostlen);
    if (!cfg->redis_host) {
        config_err(err, errlen, "REDIS_URL: out of memory");
        return -1;
    }

    cfg->redis_port = 6379;
    cfg->redis_db = 0;
    long long v;
    if (*after == ':') {
        size_t len = strcspn(after + 1, "/");
        char port[16] = "";
        if (len < sizeof(port))
            memcpy(port, after + 1, len);
        if (len >= sizeof(port) || config_parse_ll(port, 1, 65535, &v) != 0) {
            char raw[40];
            snprintf(raw, sizeof(raw), "%.*s", (int)(len < 32 ? len : 32), after + 1);
            config_escape(raw, shown, sizeof(shown), 32);
            config_err(err, errlen, "REDIS_URL: expected a port from 1 to 65535, got \"%s\"",
                       shown);
            return -1;
        }
        cfg->redis_port = (int)v;
        after += 1 + len;
    } else if (*after != '/' && *after != '\0') {
        config_escape(after, shown, sizeof(shown), 32);
        config_err(err, errlen, "REDIS_URL: expected ':port' or '/db' after the host, got \"%s\"",
                   shown);
        return -1;
    }
    if (*after == '/' && after[1] != '\0') {
        if (config_parse_ll(after + 1, 0, 65535, &v) != 0) {
            config_escape(after + 1, shown, sizeof(shown), 32);
            config_err(err, errlen,
                       "REDIS_URL: expected a database number from 0 to 65535, "
                       "got \"%s\"",
                       shown);
            return -1;
        }
        cfg->redis_db = (int)v;
    }
    return 0;
}

static bool config_node_id_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > CONFIG_NODE_ID_MAX)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* "<hostname>-<pid>-<4 random hex>", the hostname cut and cleaned so that
 * the whole id stays valid. Returns malloc'd memory or NULL. */
static char *config_node_id_default(void) {
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
        snprintf(host, sizeof(host), "node");
    host[sizeof(host) - 1] = '\0';
    for (char *p = host; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            *p = '-';

    unsigned short r;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (unsigned short)(time(NULL) ^ getpid());
    char suffix[40];
    int slen = snprintf(suffix, sizeof(suffix), "-%ld-%04x", (long)getpid(), (unsigned)r);
    char id[CONFIG_NODE_ID_MAX + 1];
    snprintf(id, sizeof(id), "%.*s%s", CONFIG_NODE_ID_MAX - slen, host, suffix);
    return strdup(id);
}

/* Parses value for setting s into cfg. 0, or -1 with err set. */
static int config_parse_one(struct config *cfg, const struct config_setting *s, const char *value,
                            char *err, size_t errlen) {
    void *field = config_field(cfg, s->offset);
    char what[96];
    long long v;
    switch (s->type) {
    case CONFIG_STRING:
    case CONFIG_NODE_ID:
    case CONFIG_REDIS_URL:
        if (s->type == CONFIG_NODE_ID && !config_node_id_valid(value)) {
            config_expected(s, value, err, errlen, "1 to 64 characters of A-Z a-z 0-9 _ . -");
            return -1;
        }
        *(char **)field = strdup(value);
        if (!*(char **)field) {
            config_err(err, errlen, "%s: out of memory", s->name);
            return -1;
        }
        if (s->type == CONFIG_REDIS_URL)
            return config_parse_redis_url(cfg, value, err, errlen);
        return 0;
    case CONFIG_INT:
    case CONFIG_SIZE:
        if (config_parse_ll(value, s->min, s->max, &v) != 0) {
            snprintf(what, sizeof(what), "%s from %lld to %lld",
                     s->type == CONFIG_INT ? "an integer" : "a size in bytes", s->min, s->max);
            config_expected(s, value, err, errlen, what);
            return -1;
        }
        if (s->type == CONFIG_INT)
            *(int *)field = (int)v;
        else
            *(size_t *)field = (size_t)v;
        return 0;
    case CONFIG_BOOL:
        if (config_parse_bool(value, (bool *)field) != 0) {
            config_expected(s, value, err, errlen, "true/false, 1/0 or yes/no");
            return -1;
        }
        return 0;
    case CONFIG_LOG_LEVEL:
        if (log_level_parse(value, (enum log_level *)field) != 0) {
            config_expected(s, value, err, errlen, "debug, info, warn or error");
            return -1;
        }
        return 0;
    case CONFIG_JWT_ALG:
        if (auth_alg_parse(value, (enum auth_alg *)field) != 0) {
            config_expected(s, value, err, errlen, "HS256, HS384, HS512, RS256 or ES256");
            return -1;
        }
        return 0;
    case CONFIG_STR_LIST:
        if (config_parse_list(value, (char ***)field,
                              (size_t *)config_field(cfg, s->count_offset)) != 0) {
            config_expected(s, value, err, errlen,
                            "a JSON list of strings or a comma-separated list");
            return -1;
        }
        return 0;
    }
    config_err(err, errlen, "%s: unknown setting type", s->name);
    return -1;
}

/* ---------------------------------------------------------------------------
 * Cross-setting checks
 * ------------------------------------------------------------------------- */

#define CONFIG_KEY_FILE_MAX 65536

/* Reads path into a malloc'd, NUL-terminated buffer. 0, or -1 with err. */
static int config_read_key_file(const char *path, unsigned char **out, size_t *outlen, char *err,
                                size_t errlen) {
    char shown[300];
    config_escape(path, shown, sizeof(shown), 200);
    FILE *f = fopen(path, "rb");
    if (!f) {
        config_err(err, errlen, "JWT_PUBLIC_KEY_FILE: expected a readable file, got \"%s\": %s",
                   shown, strerror(errno));
        return -1;
    }
    unsigned char *buf = malloc(CONFIG_KEY_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        config_err(err, errlen, "JWT_PUBLIC_KEY_FILE: out of memory");
        return -1;
    }
    size_t n = fread(buf, 1, CONFIG_KEY_FILE_MAX + 1, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || n == 0 || n > CONFIG_KEY_FILE_MAX) {
        free(buf);
        config_err(err, errlen,
                   "JWT_PUBLIC_KEY_FILE: expected a PEM public key of 1 to %d bytes in \"%s\", "
                   "got %s",
                   CONFIG_KEY_FILE_MAX, shown,
                   failed   ? "a read error"
                   : n == 0 ? "an empty file"
                            : "a larger file");
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
}

/* Checks that key holds a PEM public key libjwt can use for alg, so that a
 * wrong file stops the start rather than refusing every token later. */
static int config_check_public_key(enum auth_alg alg, const unsigned char *key, size_t len,
                                   char *err, size_t errlen) {
    BIO *bio = BIO_new_mem_buf(key, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!pkey) {
        config_err(err, errlen,
                   "JWT_PUBLIC_KEY_FILE: expected a PEM public key (BEGIN PUBLIC KEY), got "
                   "something else");
        return -1;
    }
    int rc = 0;
    if (alg == AUTH_RS256 && EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
        config_err(err, errlen, "JWT_PUBLIC_KEY_FILE: expected an RSA key for RS256, got %s",
                   OBJ_nid2sn(EVP_PKEY_base_id(pkey)));
        rc = -1;
    } else if (alg == AUTH_ES256) {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_base_id(pkey) != EVP_PKEY_EC ||
            EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1 ||
            strcmp(group, "prime256v1") != 0) {
            config_err(err, errlen,
                       "JWT_PUBLIC_KEY_FILE: expected a P-256 EC key for ES256, "
                       "got %s%s%s",
                       OBJ_nid2sn(EVP_PKEY_base_id(pkey)), group[0] ? " " : "", group);
            rc = -1;
        }
    }
    EVP_PKEY_free(pkey);
    return rc;
}

/* Fills jwt_key for the configured algorithm. 0, or -1 with err. */
static int config_check_jwt(struct config *cfg, char *err, size_t errlen) {
    const char *alg = auth_alg_name(cfg->jwt_alg);
    if (cfg->jwt_alg == AUTH_RS256 || cfg->jwt_alg == AUTH_ES256) {
        if (!cfg->jwt_public_key_file || !cfg->jwt_public_key_file[0]) {
            config_err(err, errlen, "JWT_PUBLIC_KEY_FILE: expected a PEM file for %s, got nothing",
                       alg);
            return -1;
        }
        if (config_read_key_file(cfg->jwt_public_key_file, &cfg->jwt_key, &cfg->jwt_key_len, err,
                                 errlen) != 0)
            return -1;
        return config_check_public_key(cfg->jwt_alg, cfg->jwt_key, cfg->jwt_key_len, err, errlen);
    }
    if (!cfg->jwt_secret || !cfg->jwt_secret[0]) {
        config_err(err, errlen, "JWT_SECRET: expected a non-empty secret for %s, got nothing", alg);
        return -1;
    }
    cfg->jwt_key_len = strlen(cfg->jwt_secret);
    cfg->jwt_key = (unsigned char *)strdup(cfg->jwt_secret);
    if (!cfg->jwt_key) {
        cfg->jwt_key_len = 0;
        config_err(err, errlen, "JWT_SECRET: out of memory");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

/* cfg is zeroed first: whatever it held is not freed, so load into a fresh
 * struct (or one already passed to config_free). */
int config_load(struct config *cfg, config_get_cb get, void *data, char *err, size_t errlen) {
    memset(cfg, 0, sizeof(*cfg));
    if (err && errlen)
        err[0] = '\0';
    for (size_t i = 0; i < CONFIG_COUNT; i++) {
        const struct config_setting *s = &config_settings[i];
        const char *value = get ? get(s->name, data) : NULL;
        if (!value && !s->def) { /* NODE_ID: generated */
            cfg->node_id = config_node_id_default();
            if (!cfg->node_id) {
                config_err(err, errlen, "%s: out of memory", s->name);
                return -1;
            }
            continue;
        }
        if (config_parse_one(cfg, s, value ? value : s->def, err, errlen) != 0)
            return -1;
    }
    return config_check_jwt(cfg, err, errlen);
}

void config_free(struct config *cfg) {
    if (!cfg)
        return;
    for (size_t i = 0; i < CONFIG_COUNT; i++) {
        const struct config_setting *s = &config_settings[i];
        void *field = config_field(cfg, s->offset);
        switch (s->type) {
        case CONFIG_STRING:
        case CONFIG_NODE_ID:
        case CONFIG_REDIS_URL:
            free(*(char **)field);
            *(char **)field = NULL;
            break;
        case CONFIG_STR_LIST: {
            size_t *count = config_field(cfg, s->count_offset);
            config_list_free(*(char ***)field, *count);
            *(char ***)field = NULL;
            *count = 0;
            break;
        }
        default:
            break;
        }
    }
    free(cfg->redis_host);
    if (cfg->redis_password)
        memset(cfg->redis_password, 0, strlen(cfg->redis_password));
    free(cfg->redis_password);
    if (cfg->jwt_key)
        memset(cfg->jwt_key, 0, cfg->jwt_key_len);
    free(cfg->jwt_key);
    cfg->redis_host = cfg->redis_password = NULL;
    cfg->jwt_key = NULL;
    cfg->jwt_key_len = 0;
}

void config_print_help(FILE *out) {
    fprintf(out, "signald reads these environment variables:\n\n");
    for (size_t i = 0; i < CONFIG_COUNT; i++) {
        const struct config_setting *s = &config_settings[i];
        fprintf(out, "  %-26s ", s->name);
        if (!s->def)
            fprintf(out, "default <hostname>-<pid>-<4 random hex>");
        else if (!s->def[0])
            fprintf(out, "default empty");
        else
            fprintf(out, "default %s", s->def);
        if (s->type == CONFIG_INT || s->type == CONFIG_SIZE)
            fprintf(out, ", %lld..%lld", s->min, s->max);
        if (s->secret)
            fprintf(out, ", secret");
        fprintf(out, "\n      %s\n", s->help);
    }
}

/* Writes one setting's value for the log into buf. */
static void config_render(const struct config *cfg, const struct config_setting *s, char *buf,
                          size_t len) {
    const void *field = config_cfield(cfg, s->offset);
    char tmp[512];
    switch (s->type) {
    case CONFIG_STRING:
    case CONFIG_NODE_ID: {
        const char *v = *(char *const *)field;
        if (s->secret)
            snprintf(buf, len, "%s", v && v[0] ? "(set)" : "(unset)");
        else if (!v || !v[0])
            snprintf(buf, len, "\"\"");
        else {
            config_escape(v, tmp, sizeof(tmp), 200);
            snprintf(buf, len, strchr(tmp, ' ') ? "\"%s\"" : "%s", tmp);
        }
        return;
    }
    case CONFIG_REDIS_URL: {
        /* Rebuilt from its parts, so the password never reaches the log. */
        const char *host = cfg->redis_host ? cfg->redis_host : "";
        config_escape(host, tmp, sizeof(tmp), 200);
        snprintf(buf, len, "redis://%s%s%s:%d/%d password=%s", strchr(host, ':') ? "[" : "", tmp,
                 strchr(host, ':') ? "]" : "", cfg->redis_port, cfg->redis_db,
                 cfg->redis_password ? "(set)" : "(unset)");
        return;
    }
    case CONFIG_INT:
        snprintf(buf, len, "%d", *(const int *)field);
        return;
    case CONFIG_SIZE:
        snprintf(buf, len, "%zu", *(const size_t *)field);
        return;
    case CONFIG_BOOL:
        snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false");
        return;
    case CONFIG_LOG_LEVEL:
        snprintf(buf, len, "%s", log_level_name(*(const enum log_level *)field));
        return;
    case CONFIG_JWT_ALG:
        snprintf(buf, len, "%s", auth_alg_name(*(const enum auth_alg *)field));
        return;
    case CONFIG_STR_LIST: {
        char *const *items = *(char *const *const *)field;
        size_t count = *(const size_t *)config_cfield(cfg, s->count_offset);
        size_t n = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < count && n < len; i++) {
            config_escape(items[i], tmp, sizeof(tmp), 200);
            n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", tmp);
        }
        if (count == 0)
            snprintf(buf, len, "\"\"");
        return;
    }
    }
    snprintf(buf, len, "?");
}

void config_log(const struct config *cfg) {
    char value[768];
    for (size_t i = 0; i < CONFIG_COUNT; i++) {
        const struct config_setting *s = &config_settings[i];
        config_render(cfg, s, value, sizeof(value));
        log_info("event=config %s=%s", s->name, value);
    }
}
