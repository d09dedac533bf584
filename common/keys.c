/*
 * keys: see keys.h. Every name is one snprintf, so the format strings below
 * are the whole naming scheme.
 */
#include "keys.h"

#include <stdarg.h>
#include <stdio.h>

/* snprintf into buf, turning truncation (or a formatting error) into -1.
 * A zero cap never fits, since the NUL needs a byte. */
static int keys_format(char *buf, size_t cap, const char *fmt, ...) {
    if (buf == NULL || cap == 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return -1;
    }
    return n;
}

/* A NULL name part is refused rather than printed as "(null)". */
int keys_room_members(char *buf, size_t cap, const char *room) {
    if (room == NULL)
        return -1;
    return keys_format(buf, cap, KEYS_PREFIX ":{%s}:members", room);
}

int keys_room_version(char *buf, size_t cap, const char *room) {
    if (room == NULL)
        return -1;
    return keys_format(buf, cap, KEYS_PREFIX ":{%s}:ver", room);
}

int keys_room_channel(char *buf, size_t cap, const char *room) {
    if (room == NULL)
        return -1;
    return keys_format(buf, cap, KEYS_PREFIX ":{%s}:room", room);
}

int keys_peer_channel(char *buf, size_t cap, const char *room, const char *peer) {
    if (room == NULL || peer == NULL)
        return -1;
    return keys_format(buf, cap, KEYS_PREFIX ":{%s}:peer:%s", room, peer);
}

int keys_node_lease(char *buf, size_t cap, const char *node) {
    if (node == NULL)
        return -1;
    return keys_format(buf, cap, KEYS_NODE_PREFIX "%s", node);
}

int keys_node_members(char *buf, size_t cap, const char *node) {
    if (node == NULL)
        return -1;
    return keys_format(buf, cap, KEYS_NODE_PREFIX "%s" KEYS_NODE_MEMBERS_SUFFIX, node);
}

int keys_node_dead(char *buf, size_t cap, const char *node) {
    if (node == NULL)
        return -1;
    return keys_format(buf, cap, KEYS_NODE_PREFIX "%s" KEYS_NODE_DEAD_SUFFIX, node);
}

int keys_node_reaping(char *buf, size_t cap, const char *node) {
    if (node == NULL)
        return -1;
    return keys_format(buf, cap, KEYS_NODE_PREFIX "%s" KEYS_NODE_REAPING_SUFFIX, node);
}

int keys_node_channel(char *buf, size_t cap, const char *node) {
    if (node == NULL)
        return -1;
    return keys_format(buf, cap, KEYS_PREFIX ":node:%s:hb", node);
}

int keys_nodes(char *buf, size_t cap) {
    return keys_format(buf, cap, KEYS_PREFIX ":nodes");
}

int keys_room_valid(const char *room, size_t len) {
    if (room == NULL || len == 0 || len > 128)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)room[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        if (!ok)
            return 0;
    }
    return 1;
}
