/*
 * proto: the client wire protocol of ../shared/PROTOCOL.md, as data.
 * proto_decode turns one text frame into a validated typed message; the
 * builders below produce every frame the server sends, each in one place.
 * No I/O: the WebSocket layer feeds bytes in and queues what comes out.
 *
 * Every builder returns a malloc'd, NUL-terminated compact JSON string and
 * its length in *len (NULL on out-of-memory). The caller frees it.
 */
#ifndef SIGNALD_PROTO_H
#define SIGNALD_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "member.h"

#define PROTO_MAX_CHAT_BYTES 4096

enum proto_type {
    PROTO_OFFER = 0,
    PROTO_ANSWER,
    PROTO_ICE_CANDIDATE,
    PROTO_MEDIA_STATE,
    PROTO_CHAT,
    PROTO_PING,
    PROTO_TYPE_COUNT
};

enum proto_status {
    PROTO_OK = 0,
    PROTO_ERR_BAD_REQUEST = -1,  /* error code "bad_request" */
    PROTO_ERR_UNKNOWN_TYPE = -2, /* error code "unknown_type" */
};

/* One decoded client message. root owns the parsed object; the borrowed
 * pointers below live as long as root. */
struct proto_msg {
    enum proto_type type;
    json_t *root;
    const char *target;        /* offer/answer/ice_candidate: the target peer_id */
    struct member_media media; /* media_state: the fields sent */
    const char *content;       /* chat: the text */
    size_t content_len;
};

/* Decodes one frame of len bytes (not NUL-terminated; valid UTF-8 already
 * checked by the transport). self is the sender's peer_id (a target equal
 * to it is a bad request). Returns PROTO_OK and fills *msg, or a negative
 * proto_status with a human-readable reason copied into why (why_len bytes,
 * always NUL-terminated) and *msg cleared. */
int proto_decode(const char *buf, size_t len, const char *self, struct proto_msg *msg, char *why,
                 size_t why_len);

void proto_msg_clear(struct proto_msg *msg);

const char *proto_type_name(enum proto_type type);

/* The error code word for a negative proto_status. */
const char *proto_status_code(int status);

/* ---- Builders for server frames ---- */

/* {"type":"room_state","room_id":..,"your_id":..,"participants":[..],
 *  "max_participants":N,"ice_servers":ice}. ice is borrowed (may be NULL:
 *  an empty list). */
char *proto_room_state(const char *room, const char *your_id, const struct member_list *members,
                       int max_participants, json_t *ice, size_t *len);

/* {"type":"peer_joined","peer_id":..,"peer_info":{"name":..,"role":..},
 *  "participants":[..],"reconnected":bool}. The peer's own entry in
 *  members supplies peer_info (name = peer_id if it is missing). */
char *proto_peer_joined(const char *peer_id, const struct member_list *members, bool reconnected,
                        size_t *len);

/* {"type":"peer_left","peer_id":..,"participants":[..]} */
char *proto_peer_left(const char *peer_id, const struct member_list *members, size_t *len);

/* The relayed signal: msg->root with "target" removed and "from_peer" set
 * to from (overwriting any client value); every other field unchanged. */
char *proto_relay(const struct proto_msg *msg, const char *from, size_t *len);

/* The same relayed signal without re-serialising it: buf (len bytes, a
 * frame proto_decode accepted) with its top-level "target" and "from_peer"
 * members cut out and "from_peer":from_json appended; every other byte is
 * the client's. from_json is the sender's peer_id as a JSON string, quotes
 * included. Writes into out (cap bytes, at least len + from_len + 16
 * suffice) and returns the length, or 0 when it cannot: a top-level key
 * written with escapes, which only proto_relay compares as decoded. */
size_t proto_relay_splice(const char *buf, size_t len, const char *from_json, size_t from_len,
                          char *out, size_t cap);

/* The room a splice needs in out past len + from_len. */
#define PROTO_SPLICE_EXTRA 16

/* {"type":"media_state","peer_id":..,<every known field>} */
char *proto_media_state(const char *peer_id, struct member_media media, size_t *len);

/* {"type":"chat","from_peer":..,"from_name":..,"content":..,"timestamp":ts} */
char *proto_chat(const char *from, const char *from_name, const char *content, size_t content_len,
                 const char *timestamp, size_t *len);

/* {"type":"pong"} plus "ts" copied from the ping when it had one. */
char *proto_pong(const struct proto_msg *ping, size_t *len);

/* {"type":"error","code":..,"message":..} plus "target" when target is not
 * NULL and "livekit" (borrowed object) when livekit is not NULL. */
char *proto_error(const char *code, const char *message, const char *target, json_t *livekit,
                  size_t *len);

/* The PARTICIPANT array of PROTOCOL.md section 3; a new reference. */
json_t *proto_participants(const struct member_list *members);

#endif
