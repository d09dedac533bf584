/*
 * config: every setting signald reads from the environment, in one table
 * (name, type, default, bounds, secret flag, help) in config.c. Parsed once
 * at start; a bad value stops the process with a message naming the
 * variable. `signald --help` prints the table; the start-up log prints the
 * values with secrets redacted.
 */
#ifndef SIGNALD_CONFIG_H
#define SIGNALD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "auth.h"
#include "log.h"

struct config {
    /* Listening. */
    char *bind;          /* BIND, default "0.0.0.0" */
    int port;            /* PORT, default 8080 */
    char *static_dir;    /* STATIC_DIR, default "" (no static files) */
    int max_connections; /* MAX_CONNECTIONS, default 20000 */

    /* Cluster store. REDIS_URL = redis://[:password@]host[:port][/db] */
    char *redis_url;      /* default "redis://127.0.0.1:6379/0" */
    char *redis_host;     /* parsed from redis_url */
    int redis_port;       /* parsed, default 6379 */
    int redis_db;         /* parsed, default 0 */
    char *redis_password; /* parsed, NULL when absent; secret */
    int redis_timeout_ms; /* REDIS_TIMEOUT_MS, default 2000 */
    char *node_id;        /* NODE_ID, default "<hostname>-<pid>-<4 random hex>" */

    /* Identity. */
    enum auth_alg jwt_alg;     /* JWT_ALGORITHM, default HS256 */
    char *jwt_secret;          /* JWT_SECRET (HS*), secret */
    char *jwt_public_key_file; /* JWT_PUBLIC_KEY_FILE (RS256, ES256) */
    unsigned char *jwt_key;    /* the key bytes in use: the secret, or the file's contents */
    size_t jwt_key_len;
    int jwt_leeway_s;     /* JWT_LEEWAY_SECONDS, default 30 */
    bool jwt_require_exp; /* JWT_REQUIRE_EXP, default true */

    /* Rooms and messages. */
    int max_participants;     /* WEBRTC_MAX_PARTICIPANTS, default 6 */
    size_t max_message_bytes; /* MAX_MESSAGE_BYTES, default 65536 */
    int rate_burst;           /* RATE_LIMIT_BURST, default 200 */
    int rate_per_sec;         /* RATE_LIMIT_PER_SECOND, default 100 */
    int rate_close_s;         /* RATE_LIMIT_CLOSE_SECONDS, default 5 */
    int out_queue_messages;   /* OUT_QUEUE_MAX_MESSAGES, default 1024 */
    size_t out_queue_bytes;   /* OUT_QUEUE_MAX_BYTES, default 4194304 */
    int grace_s;              /* RECONNECT_GRACE_SECONDS, default 10 */
    int ping_interval_s;      /* PING_INTERVAL_SECONDS, default 20 */
    int idle_timeout_s;       /* IDLE_TIMEOUT_SECONDS, default 60 */
    int node_ttl_s;           /* NODE_TTL_SECONDS, default 5: lease lifetime */
    int drain_s;              /* DRAIN_SECONDS, default 5 */
    int bad_token_burst;      /* BAD_TOKEN_BURST, default 20 */
    int bad_token_per_min;    /* BAD_TOKEN_PER_MINUTE, default 30 */
    bool trust_forwarded_for; /* TRUST_FORWARDED_FOR, default false */

    /* ICE. */
    char **stun_urls; /* WEBRTC_STUN_URLS: JSON list or comma list */
    size_t stun_count;
    char *turn_url;        /* WEBRTC_TURN_URL, "" = no TURN */
    char *turn_username;   /* WEBRTC_TURN_USERNAME */
    char *turn_credential; /* WEBRTC_TURN_CREDENTIAL, secret */
    char *turn_secret;     /* WEBRTC_TURN_SECRET, secret, "" = static credentials */
    int turn_ttl_s;        /* WEBRTC_TURN_TTL, default 3600 */

    /* LiveKit. */
    char *livekit_url;        /* LIVEKIT_URL, default "http://localhost:7880" */
    char *livekit_api_key;    /* LIVEKIT_API_KEY, default "devkey" */
    char *livekit_api_secret; /* LIVEKIT_API_SECRET, default "secret", secret */
    int livekit_ttl_s;        /* LIVEKIT_TOKEN_TTL, default 3600 */

    enum log_level log_level; /* LOG_LEVEL, default info */
};

/* Looks a variable up; returns NULL when unset. getenv fits via a wrapper. */
typedef const char *(*config_get_cb)(const char *name, void *data);

/* Fills cfg from the table. Returns 0, or -1 with a one-line message in err
 * ("PORT: expected an integer from 1 to 65535, got \"x\""). On -1 cfg holds
 * nothing that needs freeing beyond what config_free releases. */
int config_load(struct config *cfg, config_get_cb get, void *data, char *err, size_t errlen);

/* Frees every string the config owns. Safe on a zeroed or failed config. */
void config_free(struct config *cfg);

/* Prints every setting: name, default, one-line help. */
void config_print_help(FILE *out);

/* Logs every setting at info level, secrets shown as "(set)" or "(unset)". */
void config_log(const struct config *cfg);

#endif
