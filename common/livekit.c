/*
 * livekit: see livekit.h. The token is what LiveKit's server SDKs mint:
 * an HS256 JWT whose "video" grant is a nested object, added as JSON
 * because libjwt's typed grant setters only take scalars.
 */
#include "livekit.h"

#include <stdlib.h>
#include <string.h>

#include <jwt.h>

/* The "video" grant as JSON text (malloc'd), or NULL on OOM. */
static char *livekit_video_grant(const char *room) {
    json_t *grant = json_pack("{s:{s:s,s:b,s:b,s:b}}", "video", "room", room, "roomJoin", 1,
                              "canPublish", 1, "canSubscribe", 1);
    if (!grant)
        return NULL;
    char *text = json_dumps(grant, JSON_COMPACT);
    json_decref(grant);
    return text;
}

/* The returned token is the buffer jwt_encode_str allocated with malloc:
 * the caller frees it with free(). */
char *livekit_token(const struct config *cfg, const char *identity, const char *name,
                    const char *room, int64_t now_s) {
    if (!cfg || !identity || !room || !cfg->livekit_api_key || !cfg->livekit_api_secret ||
        !cfg->livekit_api_secret[0])
        return NULL;
    size_t secret_len = strlen(cfg->livekit_api_secret);
    if (secret_len > INT32_MAX)
        return NULL;

    char *token = NULL;
    char *video = livekit_video_grant(room);
    jwt_t *jwt = NULL;
    if (!video || jwt_new(&jwt) != 0)
        goto out;
    if (jwt_add_grant(jwt, "iss", cfg->livekit_api_key) != 0 ||
        jwt_add_grant(jwt, "sub", identity) != 0 ||
        (name && jwt_add_grant(jwt, "name", name) != 0) ||
        jwt_add_grant_int(jwt, "nbf", (long)now_s) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)(now_s + cfg->livekit_ttl_s)) != 0 ||
        jwt_add_grants_json(jwt, video) != 0)
        goto out;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)cfg->livekit_api_secret,
                    (int)secret_len) != 0)
        goto out;
    token = jwt_encode_str(jwt);
out:
    if (jwt)
        jwt_free(jwt);
    free(video);
    return token;
}

json_t *livekit_offer(const struct config *cfg, const char *identity, const char *name,
                      const char *room, int64_t now_s) {
    char *token = livekit_token(cfg, identity, name, room, now_s);
    if (!token)
        return NULL;
    json_t *offer =
        json_pack("{s:s,s:s}", "url", cfg->livekit_url ? cfg->livekit_url : "", "token", token);
    free(token);
    return offer;
}
