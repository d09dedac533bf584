/*
 * wspath: the WebSocket endpoint's path, /ws/webrtc/{room_id}[/{token}],
 * parsed from the request target exactly as the client sent it: no
 * percent-decoding and no dot-segment or slash clean-up (PROTOCOL.md
 * section 1), since a room id is taken as it stands.
 */
#ifndef SIGNALD_WSPATH_H
#define SIGNALD_WSPATH_H

#include <stddef.h>

#define WSPATH_PREFIX "/ws/webrtc/"

enum wspath_status {
    WSPATH_OK = 0,
    WSPATH_BAD_ROOM = 400,  /* the room id has other characters, or is too long */
    WSPATH_NOT_FOUND = 404, /* any other shape, an empty room id included */
};

struct wspath {
    char room[129];
    const char *token; /* points into the target; NULL when the path has none */
    size_t token_len;
};

/* Parses target (len bytes; a query string after '?' is ignored). Returns
 * WSPATH_OK and fills *out, or the HTTP status of the refusal. The room ids
 * "." and ".." are refused (400): HTTP clients would rewrite them. */
int wspath_parse(const char *target, size_t len, struct wspath *out);

#endif
