/*
 * envelope: what one signald node publishes to the others over Redis
 * pub/sub, as a msgpack map with short string keys:
 *
 *   "v"   int     format version, 1
 *   "k"   int     kind (enum envelope_kind)
 *   "o"   str     origin node id (the publisher)
 *   "r"   str     room id
 *   "p"   str     SIGNAL/BROADCAST: the sender; JOINED/LEFT: who joined or left
 *   "t"   str     SIGNAL: the target peer_id
 *   "c"   str     JOINED: the new connection id; LEFT: the connection that left
 *   "ver" int     JOINED/LEFT: the room version after the change
 *   "rc"  bool    JOINED: a reconnection
 *   "b"   str     SIGNAL/BROADCAST: the frame to deliver, final JSON text
 *   "m"   array   JOINED/LEFT: the room's members, flat [peer, record, ...]
 *   "ts"  int     SIGNAL/BROADCAST: origin wall clock in microseconds
 *
 * JOINED and LEFT are packed by the Lua scripts (cmsgpack), the others by
 * envelope_encode. Decoding ignores keys it does not know, accepts str or
 * bin for strings, and refuses anything malformed or truncated.
 */
#ifndef SIGNALD_ENVELOPE_H
#define SIGNALD_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_VERSION 1

enum envelope_kind {
    ENVELOPE_SIGNAL = 1,    /* offer/answer/ice_candidate for one peer */
    ENVELOPE_BROADCAST = 2, /* chat/media_state for the whole room */
    ENVELOPE_JOINED = 3,    /* membership: someone joined or reconnected */
    ENVELOPE_LEFT = 4,      /* membership: someone left */
};

/* Decoded envelopes own every string (NUL-terminated copies). For encoding
 * the same struct is filled with borrowed pointers and never cleared. */
struct envelope {
    enum envelope_kind kind;
    char *origin;
    char *room;
    char *peer;
    char *target;
    char *conn;
    int64_t ver;
    bool reconnected;
    char *body;
    size_t body_len;
    char **members; /* flat [peer, record, ...] */
    size_t *member_lens;
    size_t member_count; /* number of strings */
    int64_t ts_us;
};

/* Packs e (SIGNAL or BROADCAST fields: origin, room, peer, target when not
 * NULL, body, ts_us). Returns 0 and a malloc'd buffer in *out, or -1. */
int envelope_encode(const struct envelope *e, char **out, size_t *out_len);

/* Unpacks buf. Returns 0 and fills *e (owned), or -1 with *e zeroed when
 * the data is malformed, truncated, of another version, or misses a field
 * its kind needs (origin and room always; peer for every kind; target and
 * body for SIGNAL; body for BROADCAST). */
int envelope_decode(const char *buf, size_t len, struct envelope *e);

void envelope_clear(struct envelope *e);

#endif
