/*
 * wspath: see wspath.h.
 */
#include "wspath.h"

#include <string.h>

#include "keys.h"

int wspath_parse(const char *target, size_t len, struct wspath *out) {
    const size_t plen = sizeof(WSPATH_PREFIX) - 1;
    const char *q = memchr(target, '?', len);
    if (q)
        len = (size_t)(q - target);
    out->room[0] = '\0';
    out->token = NULL;
    out->token_len = 0;
    if (len <= plen || memcmp(target, WSPATH_PREFIX, plen) != 0)
        return WSPATH_NOT_FOUND;
    const char *room = target + plen, *end = target + len;
    const char *slash = memchr(room, '/', (size_t)(end - room));
    size_t rlen = (size_t)((slash ? slash : end) - room);
    if (rlen == 0)
        return WSPATH_NOT_FOUND;
    if (slash) {
        const char *token = slash + 1;
        if (memchr(token, '/', (size_t)(end - token)))
            return WSPATH_NOT_FOUND;
        if (token < end) {
            out->token = token;
            out->token_len = (size_t)(end - token);
        }
    }
    if (rlen >= sizeof(out->room) || !keys_room_valid(room, rlen) ||
        (rlen == 1 && room[0] == '.') || (rlen == 2 && room[0] == '.' && room[1] == '.'))
        return WSPATH_BAD_ROOM;
    memcpy(out->room, room, rlen);
    out->room[rlen] = '\0';
    return WSPATH_OK;
}
