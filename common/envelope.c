/*
 * envelope: see envelope.h. The file runs encoding -> a bounds pre-scan ->
 * decoding.
 *
 * Envelopes arrive from Redis, where any client could publish, so decoding
 * treats its input as hostile. msgpack-c allocates a container's element
 * table as soon as it reads the header, trusting the declared count (a
 * five-byte "array of 4 billion" asks for 128 GB). envelope_scan therefore
 * walks the bytes first and refuses any count that the remaining input
 * could not hold, before msgpack-c sees them: every allocation is then
 * bounded by a small multiple of the input length.
 */
#include "envelope.h"

#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

/* ---- Encoding ---- */

static int envelope_pack_str(msgpack_packer *pk, const char *s, size_t len) {
    if (msgpack_pack_str(pk, len) != 0)
        return -1;
    return len > 0 ? msgpack_pack_str_body(pk, s, len) : 0;
}

static int envelope_pack_key(msgpack_packer *pk, const char *key) {
    return envelope_pack_str(pk, key, strlen(key));
}

static int envelope_pack_field(msgpack_packer *pk, const char *key, const char *value) {
    if (envelope_pack_key(pk, key) != 0)
        return -1;
    return envelope_pack_str(pk, value, strlen(value));
}

int envelope_encode(const struct envelope *e, char **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    /* Refuse what envelope_decode would refuse, so that no node ever
     * publishes an envelope the others drop. */
    if (e->kind != ENVELOPE_SIGNAL && e->kind != ENVELOPE_BROADCAST)
        return -1;
    if (e->origin == NULL || e->room == NULL || e->peer == NULL || e->body == NULL)
        return -1;
    if (e->kind == ENVELOPE_SIGNAL && e->target == NULL)
        return -1;

    size_t fields = 6; /* v k o r p b */
    if (e->target != NULL)
        fields++;
    if (e->ts_us != 0)
        fields++;

    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);

    int rc = msgpack_pack_map(&pk, fields);
    rc = rc || envelope_pack_key(&pk, "v") || msgpack_pack_int(&pk, ENVELOPE_VERSION);
    rc = rc || envelope_pack_key(&pk, "k") || msgpack_pack_int(&pk, (int)e->kind);
    rc = rc || envelope_pack_field(&pk, "o", e->origin);
    rc = rc || envelope_pack_field(&pk, "r", e->room);
    rc = rc || envelope_pack_field(&pk, "p", e->peer);
    if (e->target != NULL)
        rc = rc || envelope_pack_field(&pk, "t", e->target);
    rc = rc || envelope_pack_key(&pk, "b") || envelope_pack_str(&pk, e->body, e->body_len);
    if (e->ts_us != 0)
        rc = rc || envelope_pack_key(&pk, "ts") || msgpack_pack_int64(&pk, e->ts_us);
    if (rc != 0 || sbuf.data == NULL) {
        msgpack_sbuffer_destroy(&sbuf);
        return -1;
    }
    *out_len = sbuf.size;
    *out = msgpack_sbuffer_release(&sbuf); /* malloc'd by sbuffer: free() it */
    return 0;
}

/* ---- Bounds pre-scan ---- */

/* Reads a big-endian unsigned of n bytes at p. */
static uint64_t envelope_be(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Walks exactly one msgpack object tree covering all of buf. Returns 0, or
 * -1 if the data is truncated, has trailing bytes, uses the reserved byte,
 * or declares a container larger than the bytes left could fill. Iterative:
 * `pending` counts the objects still to read, so depth costs no stack. */
static int envelope_scan(const unsigned char *buf, size_t len) {
    size_t pos = 0;
    size_t pending = 1;
    while (pending > 0) {
        if (pos >= len)
            return -1;
        unsigned char b = buf[pos++];
        pending--;
        size_t left = len - pos;
        uint64_t items = 0; /* objects this one contains */
        uint64_t skip = 0;  /* payload bytes to jump over */
        size_t hdr = 0;     /* size of a length field after b */

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixint, negative fixint, nil, false, true: b is the whole object */
        } else if (b >= 0x80 && b <= 0x8f) {
            items = 2u * (b & 0x0fu);
        } else if (b >= 0x90 && b <= 0x9f) {
            items = b & 0x0fu;
        } else if (b >= 0xa0 && b <= 0xbf) {
            skip = b & 0x1fu;
        } else {
            switch (b) {
            case 0xc4: /* bin 8/16/32 */
            case 0xd9: /* str 8/16/32 */
                hdr = 1;
                break;
            case 0xc5:
            case 0xda:
                hdr = 2;
                break;
            case 0xc6:
            case 0xdb:
                hdr = 4;
                break;
            case 0xc7: /* ext 8/16/32: length, then a type byte */
                hdr = 1;
                skip = 1;
                break;
            case 0xc8:
                hdr = 2;
                skip = 1;
                break;
            case 0xc9:
                hdr = 4;
                skip = 1;
                break;
            case 0xcc: /* uint8, int8 */
            case 0xd0:
                skip = 1;
                break;
            case 0xcd:
            case 0xd1:
                skip = 2;
                break;
            case 0xca: /* float32, uint32, int32 */
            case 0xce:
            case 0xd2:
                skip = 4;
                break;
            case 0xcb:
            case 0xcf:
            case 0xd3:
                skip = 8;
                break;
            case 0xd4: /* fixext 1/2/4/8/16: type byte plus data */
                skip = 2;
                break;
            case 0xd5:
                skip = 3;
                break;
            case 0xd6:
                skip = 5;
                break;
            case 0xd7:
                skip = 9;
                break;
            case 0xd8:
                skip = 17;
                break;
            case 0xdc: /* array 16/32 */
            case 0xde: /* map 16/32 */
                hdr = 2;
                break;
            case 0xdd:
            case 0xdf:
                hdr = 4;
                break;
            default: /* 0xc1 is reserved: never valid */
                return -1;
            }
        }

        if (hdr > 0) {
            if (hdr > left)
                return -1;
            uint64_t n = envelope_be(buf + pos, hdr);
            pos += hdr;
            left -= hdr;
            if (b == 0xdc || b == 0xdd)
                items = n;
            else if (b == 0xde || b == 0xdf)
                items = 2 * n;
            else
                skip += n;
        }
        if (skip > left)
            return -1;
        pos += (size_t)skip;
        left -= (size_t)skip;
        /* Each pending object takes at least one byte, so a count the
         * remaining input cannot hold is a lie (or truncation). */
        if (items > left || pending + items > left)
            return -1;
        pending += (size_t)items;
    }
    return pos == len ? 0 : -1;
}

/* ---- Decoding ---- */

static bool envelope_key_is(const msgpack_object *key, const char *name) {
    size_t n = strlen(name);
    return key->via.str.size == n && memcmp(key->via.str.ptr, name, n) == 0;
}

/* STR and BIN share the via.str/via.bin layout; both are accepted. */
static int envelope_get_str(const msgpack_object *o, const char **ptr, size_t *len) {
    if (o->type == MSGPACK_OBJECT_STR) {
        *ptr = o->via.str.ptr;
        *len = o->via.str.size;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_BIN) {
        *ptr = o->via.bin.ptr;
        *len = o->via.bin.size;
        return 0;
    }
    return -1;
}

/* A NUL-terminated malloc'd copy of a STR or BIN value, out of the zone.
 * Refuses a second value for the same key (*dst already set). */
static int envelope_copy_str(const msgpack_object *o, char **dst, size_t *dst_len) {
    const char *ptr;
    size_t len;
    if (*dst != NULL || envelope_get_str(o, &ptr, &len) != 0)
        return -1;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    if (len > 0)
        memcpy(copy, ptr, len);
    copy[len] = '\0';
    *dst = copy;
    if (dst_len != NULL)
        *dst_len = len;
    return 0;
}

/* An integer as Lua's cmsgpack may pack it: any int type, or a float
 * holding an integral value. */
static int envelope_get_int(const msgpack_object *o, int64_t *out) {
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)o->via.u64;
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = o->via.i64;
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {
        double d = o->via.f64;
        /* Range first: an out-of-range double to int64 conversion is UB.
         * NaN fails both comparisons. */
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            return -1;
        int64_t i = (int64_t)d;
        if ((double)i != d)
            return -1;
        *out = i;
        return 0;
    }
    default:
        return -1;
    }
}

static int envelope_get_bool(const msgpack_object *o, bool *out) {
    if (o->type == MSGPACK_OBJECT_BOOLEAN) {
        *out = o->via.boolean;
        return 0;
    }
    int64_t i;
    if (envelope_get_int(o, &i) == 0 && (i == 0 || i == 1)) {
        *out = i == 1;
        return 0;
    }
    return -1;
}

/* "m": an array of strings. cmsgpack packs an empty Lua table as an empty
 * array, but an empty map is accepted too. */
static int envelope_get_members(const msgpack_object *o, struct envelope *e) {
    if (e->members != NULL || e->member_count != 0)
        return -1; /* duplicate key */
    if (o->type == MSGPACK_OBJECT_MAP && o->via.map.size == 0)
        return 0;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return -1;
    size_t n = o->via.array.size;
    if (n == 0)
        return 0;
    /* n is bounded by the input length (envelope_scan). */
    e->members = calloc(n, sizeof(*e->members));
    e->member_lens = calloc(n, sizeof(*e->member_lens));
    if (e->members == NULL || e->member_lens == NULL)
        return -1;
    e->member_count = n;
    for (size_t i = 0; i < n; i++) {
        if (envelope_copy_str(&o->via.array.ptr[i], &e->members[i], &e->member_lens[i]) != 0)
            return -1;
    }
    return 0;
}

/* Which integer fields were seen, to refuse duplicates and missing ones. */
#define SEEN_V   1u
#define SEEN_K   2u
#define SEEN_VER 4u
#define SEEN_RC  8u
#define SEEN_TS  16u

static int envelope_seen(unsigned *seen, unsigned bit) {
    if (*seen & bit)
        return -1;
    *seen |= bit;
    return 0;
}

static int envelope_read_field(const msgpack_object *key, const msgpack_object *val,
                               struct envelope *e, unsigned *seen, int64_t *version,
                               int64_t *kind) {
    if (key->type != MSGPACK_OBJECT_STR && key->type != MSGPACK_OBJECT_BIN)
        return 0; /* not one of ours: ignored like any unknown key */
    if (envelope_key_is(key, "v"))
        return envelope_seen(seen, SEEN_V) || envelope_get_int(val, version);
    if (envelope_key_is(key, "k"))
        return envelope_seen(seen, SEEN_K) || envelope_get_int(val, kind);
    if (envelope_key_is(key, "o"))
        return envelope_copy_str(val, &e->origin, NULL);
    if (envelope_key_is(key, "r"))
        return envelope_copy_str(val, &e->room, NULL);
    if (envelope_key_is(key, "p"))
        return envelope_copy_str(val, &e->peer, NULL);
    if (envelope_key_is(key, "t"))
        return envelope_copy_str(val, &e->target, NULL);
    if (envelope_key_is(key, "c"))
        return envelope_copy_str(val, &e->conn, NULL);
    if (envelope_key_is(key, "b"))
        return envelope_copy_str(val, &e->body, &e->body_len);
    if (envelope_key_is(key, "ver"))
        return envelope_seen(seen, SEEN_VER) || envelope_get_int(val, &e->ver);
    if (envelope_key_is(key, "rc"))
        return envelope_seen(seen, SEEN_RC) || envelope_get_bool(val, &e->reconnected);
    if (envelope_key_is(key, "ts"))
        return envelope_seen(seen, SEEN_TS) || envelope_get_int(val, &e->ts_us);
    if (envelope_key_is(key, "m"))
        return envelope_get_members(val, e);
    return 0;
}

/* The fields envelope.h says each kind needs. */
static int envelope_check(const struct envelope *e, unsigned seen, int64_t version, int64_t kind) {
    if (!(seen & SEEN_V) || version != ENVELOPE_VERSION)
        return -1;
    if (!(seen & SEEN_K) || kind < ENVELOPE_SIGNAL || kind > ENVELOPE_LEFT)
        return -1;
    if (e->origin == NULL || e->room == NULL || e->peer == NULL)
        return -1;
    if (kind == ENVELOPE_SIGNAL && (e->target == NULL || e->body == NULL))
        return -1;
    if (kind == ENVELOPE_BROADCAST && e->body == NULL)
        return -1;
    return 0;
}

int envelope_decode(const char *buf, size_t len, struct envelope *e) {
    memset(e, 0, sizeof(*e));
    if (buf == NULL || len == 0 || envelope_scan((const unsigned char *)buf, len) != 0)
        return -1;

    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = -1;
    if (msgpack_unpack_next(&up, buf, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len &&
        up.data.type == MSGPACK_OBJECT_MAP) {
        const msgpack_object_map *map = &up.data.via.map;
        unsigned seen = 0;
        int64_t version = 0;
        int64_t kind = 0;
        rc = 0;
        for (uint32_t i = 0; i < map->size && rc == 0; i++)
            rc = envelope_read_field(&map->ptr[i].key, &map->ptr[i].val, e, &seen, &version, &kind);
        if (rc == 0)
            rc = envelope_check(e, seen, version, kind);
        if (rc == 0)
            e->kind = (enum envelope_kind)kind;
    }
    /* Every string was copied out: the zone can go now. */
    msgpack_unpacked_destroy(&up);
    if (rc != 0) {
        envelope_clear(e);
        return -1;
    }
    return 0;
}

void envelope_clear(struct envelope *e) {
    if (e == NULL)
        return;
    free(e->origin);
    free(e->room);
    free(e->peer);
    free(e->target);
    free(e->conn);
    free(e->body);
    if (e->members != NULL) {
        for (size_t i = 0; i < e->member_count; i++)
            free(e->members[i]);
    }
    free(e->members);
    free(e->member_lens);
    memset(e, 0, sizeof(*e));
}
