/*
 * msg: see msg.h.
 */
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_KEY_MAX 64

/* Finds "key": and returns the first byte after the colon (spaces skipped). */
static const char *msg_find(const char *buf, size_t len, const char *key) {
    char needle[MSG_KEY_MAX + 4];
    size_t k = strlen(key);
    if (k > MSG_KEY_MAX)
        return NULL;
    needle[0] = '"';
    memcpy(needle + 1, key, k);
    needle[k + 1] = '"';
    needle[k + 2] = ':';
    const char *p = memmem(buf, len, needle, k + 3);
    if (!p)
        return NULL;
    p += k + 3;
    const char *end = buf + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p < end ? p : NULL;
}

bool msg_has(const char *buf, size_t len, const char *key) {
    return msg_find(buf, len, key) != NULL;
}

unsigned msg_count(const char *buf, size_t len, const char *key) {
    unsigned n = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *q = msg_find(p, (size_t)(end - p), key);
        if (!q)
            break;
        n++;
        p = q;
    }
    return n;
}

/* Parses digits at p (bounded by end); -1 if there are none. */
static int64_t msg_digits(const char *p, const char *end, const char **after) {
    int64_t v = 0;
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9' && v < INT64_MAX / 10)
        v = v * 10 + (*p++ - '0');
    if (after)
        *after = p;
    return p == start ? -1 : v;
}

int64_t msg_int(const char *buf, size_t len, const char *key) {
    const char *p = msg_find(buf, len, key);
    return p ? msg_digits(p, buf + len, NULL) : -1;
}

int msg_str(const char *buf, size_t len, const char *key, const char **out) {
    const char *p = msg_find(buf, len, key), *end = buf + len;
    if (!p || *p != '"')
        return -1;
    p++;
    const char *q = p;
    while (q < end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= end)
        return -1;
    *out = p;
    return (int)(q - p);
}

enum msg_type msg_type(const char *buf, size_t len) {
    static const struct {
        const char *name;
        enum msg_type type;
    } names[] = {
        {"ice_candidate", MSG_ICE_CANDIDATE},
        {"chat", MSG_CHAT},
        {"pong", MSG_PONG},
        {"room_state", MSG_ROOM_STATE},
        {"peer_joined", MSG_PEER_JOINED},
        {"peer_left", MSG_PEER_LEFT},
        {"error", MSG_ERROR},
    };
    const char *v;
    int n = msg_str(buf, len, "type", &v);
    if (n < 0)
        return MSG_OTHER;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i].name) == (size_t)n && memcmp(v, names[i].name, (size_t)n) == 0)
            return names[i].type;
    return MSG_OTHER;
}

/* Appends pad bytes of 'x' at buf[off], within cap; returns the new offset
 * or 0 when it does not fit. */
static size_t msg_pad(char *buf, size_t cap, size_t off, size_t pad) {
    if (off + pad >= cap)
        return 0;
    memset(buf + off, 'x', pad);
    return off + pad;
}

size_t msg_relay(char *buf, size_t cap, const char *target, uint64_t t, uint64_t n, size_t size) {
    static const char tail[] = "\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}";
    int head = snprintf(buf, cap,
                        "{\"type\":\"ice_candidate\",\"target\":\"%s\",\"t\":%llu,\"n\":%llu,"
                        "\"candidate\":{\"candidate\":\"candidate:1 1 udp 2122260223 192.0.2.10 "
                        "50000 typ host generation 0 ufrag bnch network-id 1 ",
                        target, (unsigned long long)t, (unsigned long long)n);
    if (head < 0 || (size_t)head >= cap)
        return 0;
    size_t fixed = (size_t)head + sizeof(tail) - 1;
    size_t off = msg_pad(buf, cap, (size_t)head, size > fixed ? size - fixed : 0);
    if (!off || off + sizeof(tail) > cap)
        return 0;
    memcpy(buf + off, tail, sizeof(tail) - 1);
    return off + sizeof(tail) - 1;
}

size_t msg_chat(char *buf, size_t cap, uint64_t t, uint64_t n, size_t size) {
    int head = snprintf(buf, cap, "{\"type\":\"chat\",\"content\":\"t=%llu,n=%llu,",
                        (unsigned long long)t, (unsigned long long)n);
    if (head < 0 || (size_t)head >= cap)
        return 0;
    size_t fixed = (size_t)head + 2;
    size_t off = msg_pad(buf, cap, (size_t)head, size > fixed ? size - fixed : 0);
    if (!off || off + 2 > cap)
        return 0;
    memcpy(buf + off, "\"}", 2);
    return off + 2;
}

size_t msg_ping(char *buf, size_t cap, uint64_t t) {
    int n = snprintf(buf, cap, "{\"type\":\"ping\",\"ts\":%llu}", (unsigned long long)t);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int msg_chat_stamp(const char *buf, size_t len, uint64_t *t, uint64_t *n) {
    const char *p, *end = buf + len;
    int cl = msg_str(buf, len, "content", &p);
    if (cl < 4 || memcmp(p, "t=", 2) != 0)
        return -1;
    end = p + cl;
    int64_t tv = msg_digits(p + 2, end, &p);
    if (tv < 0 || end - p < 3 || memcmp(p, ",n=", 3) != 0)
        return -1;
    int64_t nv = msg_digits(p + 3, end, NULL);
    if (nv < 0)
        return -1;
    *t = (uint64_t)tv;
    *n = (uint64_t)nv;
    return 0;
}
