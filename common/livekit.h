/*
 * livekit: LiveKit access tokens, so a class that outgrows the mesh can
 * move to the SFU with the same identity. HS256 JWT signed with the API
 * secret: iss = API key, sub = identity, name, nbf, exp, and a "video"
 * grant {room, roomJoin, canPublish, canSubscribe}.
 */
#ifndef SIGNALD_LIVEKIT_H
#define SIGNALD_LIVEKIT_H

#include <stdint.h>

#include <jansson.h>

#include "config.h"

/* Returns a malloc'd token valid from now_s for cfg->livekit_ttl_s, or NULL. */
char *livekit_token(const struct config *cfg, const char *identity, const char *name,
                    const char *room, int64_t now_s);

/* {"url": LIVEKIT_URL, "token": ...} for the room_full error; a new
 * reference, or NULL on error. */
json_t *livekit_offer(const struct config *cfg, const char *identity, const char *name,
                      const char *room, int64_t now_s);

#endif
