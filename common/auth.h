/*
 * auth: verifies a client's JWT and turns its claims into an identity.
 * Pure: takes the token, the expected room and the time; no I/O. The
 * algorithm is pinned to the configured one (libjwt alone would accept
 * another), and exp/nbf are checked here because libjwt does not.
 */
#ifndef SIGNALD_AUTH_H
#define SIGNALD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_MAX_TOKEN   8192 /* longer tokens are refused unread */
#define AUTH_MAX_PEER_ID 128  /* bytes of sub */
#define AUTH_MAX_NAME    256  /* bytes of the display name and of role */

enum auth_alg { AUTH_HS256 = 0, AUTH_HS384, AUTH_HS512, AUTH_RS256, AUTH_ES256 };

enum auth_status {
    AUTH_OK = 0,
    AUTH_ERR_UNAUTHORIZED = -1, /* close 4001: missing, malformed, bad signature, expired */
    AUTH_ERR_FORBIDDEN = -2,    /* close 4003: valid token, but not for this room */
};

struct auth_params {
    enum auth_alg alg;
    const unsigned char *key; /* secret (HS*) or PEM public key (RS256/ES256); never NULL */
    size_t key_len;
    int leeway_s;
    bool require_exp;
};

/* Who a valid token names. Every string is owned (malloc'd). */
struct auth_identity {
    char *peer_id; /* sub; an integer sub in decimal */
    char *name;    /* name, else full_name, else username, else peer_id */
    char *role;    /* NULL when the token has none */
};

/* Parses "HS256", "HS384", "HS512", "RS256", "ES256" (exact case). 0 or -1. */
int auth_alg_parse(const char *s, enum auth_alg *out);
const char *auth_alg_name(enum auth_alg alg);

/* Verifies token (NUL-terminated). room may be NULL to skip the room claim
 * check (HTTP endpoints without a room). now_s is wall-clock seconds.
 * Returns AUTH_OK and fills *id, or a negative auth_status with *why set to a
 * short static reason ("expired", "bad signature", ...) and *id untouched.
 * Rules: alg must equal params->alg; sub required (non-empty string of at
 * most AUTH_MAX_PEER_ID bytes, or an integer); exp required unless
 * !require_exp; now > exp + leeway is expired; now < nbf - leeway is not yet
 * valid; a "room" claim (string or list of strings) that does not name
 * room gives AUTH_ERR_FORBIDDEN. */
int auth_verify(const struct auth_params *params, const char *token, const char *room,
                int64_t now_s, struct auth_identity *id, const char **why);

void auth_identity_clear(struct auth_identity *id);

#endif
