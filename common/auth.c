/*
 * auth: see auth.h.
 *
 * The token goes through three layers:
 *   1. a structural pre-check of our own (three base64url parts, a JSON
 *      header naming exactly the configured alg, a JSON object payload), so
 *      that "none" and foreign algorithms are refused before libjwt sees
 *      the token and so that a later libjwt failure can be reported as a
 *      bad signature rather than as "malformed";
 *   2. jwt_decode with the configured key (never NULL: libjwt would then
 *      skip verification), followed by a second alg check, because libjwt
 *      verifies an HS256 token with an RSA public key used as HMAC secret;
 *   3. the claims, read back as one JSON document and checked here (libjwt
 *      checks neither exp nor nbf).
 * Every path frees what it made; nothing here keeps state between calls.
 */
#include "auth.h"

#include <errno.h>
#include <limits.h>
#include <math.h> /* isfinite, a macro */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>

/* ---------------------------------------------------------------------------
 * Algorithms
 * ------------------------------------------------------------------------- */

static const struct {
    enum auth_alg alg;
    const char *name;
    jwt_alg_t jwt;
} auth_algs[] = {
    {AUTH_HS256, "HS256", JWT_ALG_HS256}, {AUTH_HS384, "HS384", JWT_ALG_HS384},
    {AUTH_HS512, "HS512", JWT_ALG_HS512}, {AUTH_RS256, "RS256", JWT_ALG_RS256},
    {AUTH_ES256, "ES256", JWT_ALG_ES256},
};

#define AUTH_ALG_COUNT (sizeof(auth_algs) / sizeof(auth_algs[0]))

int auth_alg_parse(const char *s, enum auth_alg *out) {
    if (!s)
        return -1;
    for (size_t i = 0; i < AUTH_ALG_COUNT; i++) {
        if (strcmp(s, auth_algs[i].name) == 0) {
            *out = auth_algs[i].alg;
            return 0;
        }
    }
    return -1;
}

const char *auth_alg_name(enum auth_alg alg) {
    for (size_t i = 0; i < AUTH_ALG_COUNT; i++)
        if (auth_algs[i].alg == alg)
            return auth_algs[i].name;
    return "unknown";
}

/* JWT_ALG_INVAL for an enum value outside the table. */
static jwt_alg_t auth_alg_to_jwt(enum auth_alg alg) {
    for (size_t i = 0; i < AUTH_ALG_COUNT; i++)
        if (auth_algs[i].alg == alg)
            return auth_algs[i].jwt;
    return JWT_ALG_INVAL;
}

/* ---------------------------------------------------------------------------
 * Structural pre-check
 * ------------------------------------------------------------------------- */

static int auth_b64url_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decodes len bytes of unpadded base64url (trailing '=' tolerated) into a
 * malloc'd buffer the caller frees. Returns NULL on a bad character, an
 * impossible length or OOM. */
static unsigned char *auth_b64url_decode(const char *in, size_t len, size_t *outlen) {
    while (len > 0 && in[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return NULL;
    unsigned char *out = malloc(len / 4 * 3 + 3);
    if (!out)
        return NULL;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = auth_b64url_value((unsigned char)in[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *outlen = n;
    return out;
}

/* Decodes one base64url part into a JSON object (new reference), or NULL. */
static json_t *auth_part_json(const char *part, size_t len) {
    size_t n;
    unsigned char *raw = auth_b64url_decode(part, len, &n);
    if (!raw)
        return NULL;
    json_t *obj = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Returns AUTH_OK when token looks like a JWS signed with want, else sets
 * *why. Does not verify anything cryptographic. */
static int auth_precheck(const char *token, const char *want, const char **why) {
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot1 || !dot2 || strchr(dot2 + 1, '.') || dot1 == token || dot2 == dot1 + 1) {
        *why = "malformed";
        return AUTH_ERR_UNAUTHORIZED;
    }
    json_t *head = auth_part_json(token, (size_t)(dot1 - token));
    if (!head) {
        *why = "malformed";
        return AUTH_ERR_UNAUTHORIZED;
    }
    const char *alg = json_string_value(json_object_get(head, "alg"));
    json_t *typ = json_object_get(head, "typ");
    int rc = AUTH_OK;
    if (!alg) {
        *why = "malformed";
        rc = AUTH_ERR_UNAUTHORIZED;
    } else if (strcmp(alg, want) != 0) {
        *why = "wrong algorithm";
        rc = AUTH_ERR_UNAUTHORIZED;
    } else if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0)) {
        /* libjwt refuses any typ but JWT; say so rather than "bad signature". */
        *why = "malformed";
        rc = AUTH_ERR_UNAUTHORIZED;
    }
    json_decref(head);
    if (rc != AUTH_OK)
        return rc;

    json_t *payload = auth_part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!payload) {
        *why = "malformed";
        return AUTH_ERR_UNAUTHORIZED;
    }
    json_decref(payload);
    if (dot2[1] == '\0') {
        *why = "missing signature";
        return AUTH_ERR_UNAUTHORIZED;
    }
    return AUTH_OK;
}

/* ---------------------------------------------------------------------------
 * Claims
 * ------------------------------------------------------------------------- */

/* Reads a NumericDate claim rounded the safe way (floor for exp, ceil for
 * nbf, which keeps "now > exp" and "now < nbf" exact for integer now) and
 * clamped to int64. Returns -1 for a non-number or a non-finite real. */
static int auth_claim_time(const json_t *v, bool round_up, int64_t *out) {
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_real(v))
        return -1;
    double d = json_real_value(v);
    if (!isfinite(d))
        return -1;
    /* Rounded by hand (truncation, then one step) rather than with
     * floor/ceil, so that the library needs no libm. */
    if (d >= 9.2e18) {
        *out = INT64_MAX;
    } else if (d <= -9.2e18) {
        *out = INT64_MIN;
    } else {
        int64_t t = (int64_t)d;
        if (round_up && (double)t < d)
            t++;
        else if (!round_up && (double)t > d)
            t--;
        *out = t;
    }
    return 0;
}

static int64_t auth_sat_add(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* Copies s, cut to at most max bytes without splitting a UTF-8 sequence
 * (jansson only hands out valid UTF-8). Returns malloc'd memory or NULL. */
static char *auth_strdup_trunc(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* A non-empty string claim, or NULL. */
static const char *auth_claim_str(const json_t *claims, const char *key) {
    const char *s = json_string_value(json_object_get(claims, key));
    return s && s[0] ? s : NULL;
}

/* Fills buf (AUTH_MAX_PEER_ID + 1 bytes) with the peer id from sub. */
static int auth_claim_sub(const json_t *claims, char *buf, const char **why) {
    const json_t *sub = json_object_get(claims, "sub");
    if (!sub) {
        *why = "missing sub";
        return -1;
    }
    if (json_is_integer(sub)) {
        snprintf(buf, AUTH_MAX_PEER_ID + 1, "%lld", (long long)json_integer_value(sub));
        return 0;
    }
    if (!json_is_string(sub)) {
        *why = "bad sub";
        return -1;
    }
    const char *s = json_string_value(sub);
    size_t n = json_string_length(sub);
    if (n == 0) {
        *why = "empty sub";
        return -1;
    }
    if (n > AUTH_MAX_PEER_ID) {
        *why = "sub too long";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* Also catches an embedded NUL, which would cut the id short. */
        if (c < 0x20 || c == 0x7F) {
            *why = "bad sub";
            return -1;
        }
    }
    memcpy(buf, s, n + 1);
    return 0;
}

static int auth_check_times(const struct auth_params *p, const json_t *claims, int64_t now_s,
                            const char **why) {
    int64_t leeway = p->leeway_s > 0 ? p->leeway_s : 0;
    int64_t t;
    const json_t *exp = json_object_get(claims, "exp");
    if (!exp) {
        if (p->require_exp) {
            *why = "missing exp";
            return -1;
        }
    } else if (auth_claim_time(exp, false, &t) != 0) {
        *why = "bad exp";
        return -1;
    } else if (now_s > auth_sat_add(t, leeway)) {
        *why = "expired";
        return -1;
    }
    const json_t *nbf = json_object_get(claims, "nbf");
    if (nbf) {
        if (auth_claim_time(nbf, true, &t) != 0) {
            *why = "bad nbf";
            return -1;
        }
        if (now_s < auth_sat_add(t, -leeway)) {
            *why = "not yet valid";
            return -1;
        }
    }
    return 0;
}

/* AUTH_OK when there is no room claim, or it names room (or room is NULL
 * and the claim is well-formed). */
static int auth_check_room(const json_t *claims, const char *room, const char **why) {
    const json_t *rc = json_object_get(claims, "room");
    if (!rc)
        return AUTH_OK;
    if (json_is_string(rc)) {
        if (room && strcmp(json_string_value(rc), room) != 0) {
            *why = "room not allowed";
            return AUTH_ERR_FORBIDDEN;
        }
        return AUTH_OK;
    }
    if (!json_is_array(rc)) {
        *why = "bad room claim";
        return AUTH_ERR_UNAUTHORIZED;
    }
    bool found = false;
    size_t i;
    const json_t *item;
    json_array_foreach(rc, i, item) {
        if (!json_is_string(item)) {
            *why = "bad room claim";
            return AUTH_ERR_UNAUTHORIZED;
        }
        if (room && strcmp(json_string_value(item), room) == 0)
            found = true;
    }
    if (room && !found) {
        *why = "room not allowed";
        return AUTH_ERR_FORBIDDEN;
    }
    return AUTH_OK;
}

/* Turns the verified claims into *id. */
static int auth_claims(const struct auth_params *p, const json_t *claims, const char *room,
                       int64_t now_s, struct auth_identity *id, const char **why) {
    char peer[AUTH_MAX_PEER_ID + 1];
    if (auth_claim_sub(claims, peer, why) != 0)
        return AUTH_ERR_UNAUTHORIZED;
    if (auth_check_times(p, claims, now_s, why) != 0)
        return AUTH_ERR_UNAUTHORIZED;
    int rc = auth_check_room(claims, room, why);
    if (rc != AUTH_OK)
        return rc;

    const char *name = auth_claim_str(claims, "name");
    if (!name)
        name = auth_claim_str(claims, "full_name");
    if (!name)
        name = auth_claim_str(claims, "username");
    if (!name)
        name = peer;
    const char *role = auth_claim_str(claims, "role");

    struct auth_identity out = {0};
    out.peer_id = strdup(peer);
    out.name = auth_strdup_trunc(name, AUTH_MAX_NAME);
    if (role)
        out.role = auth_strdup_trunc(role, AUTH_MAX_NAME);
    if (!out.peer_id || !out.name || (role && !out.role)) {
        auth_identity_clear(&out);
        *why = "out of memory";
        return AUTH_ERR_UNAUTHORIZED;
    }
    *id = out;
    return AUTH_OK;
}

/* ---------------------------------------------------------------------------
 * Public entry points
 * ------------------------------------------------------------------------- */

int auth_verify(const struct auth_params *params, const char *token, const char *room,
                int64_t now_s, struct auth_identity *id, const char **why) {
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!params || !params->key || params->key_len == 0 || params->key_len > INT_MAX || !id) {
        *why = "no key";
        return AUTH_ERR_UNAUTHORIZED;
    }
    jwt_alg_t want = auth_alg_to_jwt(params->alg);
    if (want == JWT_ALG_INVAL) {
        *why = "no key";
        return AUTH_ERR_UNAUTHORIZED;
    }
    size_t len = token ? strnlen(token, AUTH_MAX_TOKEN + 1) : 0;
    if (len == 0) {
        *why = "missing token";
        return AUTH_ERR_UNAUTHORIZED;
    }
    if (len > AUTH_MAX_TOKEN) {
        *why = "token too long";
        return AUTH_ERR_UNAUTHORIZED;
    }
    int rc = auth_precheck(token, auth_alg_name(params->alg), why);
    if (rc != AUTH_OK)
        return rc;

    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, params->key, (int)params->key_len) != 0 || !jwt) {
        /* The pre-check passed, so what is left is the signature (or a key
         * libjwt could not use, which also means nothing verifies). */
        *why = "bad signature";
        return AUTH_ERR_UNAUTHORIZED;
    }
    if (jwt_get_alg(jwt) != want) {
        jwt_free(jwt);
        *why = "wrong algorithm";
        return AUTH_ERR_UNAUTHORIZED;
    }
    char *text = jwt_get_grants_json(jwt, NULL);
    jwt_free(jwt);
    if (!text) {
        *why = "malformed";
        return AUTH_ERR_UNAUTHORIZED;
    }
    json_t *claims = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_object(claims)) {
        json_decref(claims);
        *why = "malformed";
        return AUTH_ERR_UNAUTHORIZED;
    }
    rc = auth_claims(params, claims, room, now_s, id, why);
    json_decref(claims);
    return rc;
}

void auth_identity_clear(struct auth_identity *id) {
    if (!id)
        return;
    free(id->peer_id);
    free(id->name);
    free(id->role);
    id->peer_id = id->name = id->role = NULL;
}
