/*
 * ice: the ICE server list clients give RTCPeerConnection, from settings.
 * STUN URLs as one entry; TURN with the static username/credential, or,
 * when a TURN secret is set, ephemeral credentials in the TURN REST format
 * coturn's use-auth-secret checks: username "<expiry>:<peer_id>",
 * credential base64(HMAC-SHA1(secret, username)).
 */
#ifndef SIGNALD_ICE_H
#define SIGNALD_ICE_H

#include <stdint.h>

#include <jansson.h>

#include "config.h"

/* [{"urls":["stun:..",..]}, {"urls":"turn:..","username":..,"credential":..}]
 * The STUN entry is left out when there are no STUN URLs, the TURN entry
 * when WEBRTC_TURN_URL is empty. Returns a new reference, NULL on OOM. */
json_t *ice_servers(const struct config *cfg, const char *peer_id, int64_t now_s);

/* The TURN REST credential for username under secret: base64 of
 * HMAC-SHA1. Returns a malloc'd string, NULL on error. */
char *ice_turn_credential(const char *secret, const char *username);

#endif
