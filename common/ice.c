/*
 * ice: see ice.h. Builds the list fresh for each caller, because ephemeral
 * TURN credentials depend on the peer and the time.
 */
#include "ice.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

char *ice_turn_credential(const char *secret, const char *username) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!secret || !username)
        return NULL;
    size_t keylen = strlen(secret);
    if (keylen > INT32_MAX)
        return NULL;
    if (!HMAC(EVP_sha1(), secret, (int)keylen, (const unsigned char *)username, strlen(username),
              mac, &maclen))
        return NULL;
    /* EVP_EncodeBlock writes 4 bytes per 3 (padded) plus a NUL. */
    char *out = malloc(4 * ((maclen + 2) / 3) + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
    return out;
}

/* {"urls": [...]} with every STUN URL, or NULL on OOM. */
static json_t *ice_stun_entry(const struct config *cfg) {
    json_t *urls = json_array();
    for (size_t i = 0; urls && i < cfg->stun_count; i++) {
        if (json_array_append_new(urls, json_string(cfg->stun_urls[i])) != 0) {
            json_decref(urls);
            return NULL;
        }
    }
    return urls ? json_pack("{s:o}", "urls", urls) : NULL;
}

/* Adds key: value to obj when value is non-empty. 0, or -1 on OOM. */
static int ice_set_nonempty(json_t *obj, const char *key, const char *value) {
    if (!value || !value[0])
        return 0;
    return json_object_set_new(obj, key, json_string(value));
}

/* {"urls": "turn:..", "username": .., "credential": ..}, or NULL on OOM.
 * With a TURN secret the username is "<expiry>:<peer_id>" (just "<expiry>"
 * when there is no peer id, which coturn also accepts). */
static json_t *ice_turn_entry(const struct config *cfg, const char *peer_id, int64_t now_s) {
    json_t *entry = json_pack("{s:s}", "urls", cfg->turn_url);
    if (!entry)
        return NULL;
    int rc;
    if (cfg->turn_secret && cfg->turn_secret[0]) {
        char username[64 + AUTH_MAX_PEER_ID];
        int64_t expiry = now_s + cfg->turn_ttl_s;
        if (peer_id && peer_id[0])
            snprintf(username, sizeof(username), "%" PRId64 ":%s", expiry, peer_id);
        else
            snprintf(username, sizeof(username), "%" PRId64, expiry);
        char *credential = ice_turn_credential(cfg->turn_secret, username);
        rc = credential ? 0 : -1;
        if (rc == 0)
            rc = json_object_set_new(entry, "username", json_string(username));
        if (rc == 0)
            rc = json_object_set_new(entry, "credential", json_string(credential));
        free(credential);
    } else {
        rc = ice_set_nonempty(entry, "username", cfg->turn_username);
        if (rc == 0)
            rc = ice_set_nonempty(entry, "credential", cfg->turn_credential);
    }
    if (rc != 0) {
        json_decref(entry);
        return NULL;
    }
    return entry;
}

json_t *ice_servers(const struct config *cfg, const char *peer_id, int64_t now_s) {
    json_t *list = json_array();
    if (!list)
        return NULL;
    if (cfg->stun_count > 0 && json_array_append_new(list, ice_stun_entry(cfg)) != 0)
        goto fail;
    if (cfg->turn_url && cfg->turn_url[0] &&
        json_array_append_new(list, ice_turn_entry(cfg, peer_id, now_s)) != 0)
        goto fail;
    return list;
fail:
    json_decref(list);
    return NULL;
}
