/*
 * member: one participant of a room, as stored in the room's Redis hash
 * (field = peer_id, value = the JSON record below) and as listed to
 * clients. The record is readable with redis-cli:
 *
 *   {"name":"Alice","role":"teacher","node":"n1-4711-ab12","conn":"n1-4711-ab12:17",
 *    "joined_at":1760000000123,"seq":3,"media":{"video":true}}
 *
 * role and media are left out when absent. seq and joined_at are set by the
 * join script (order of first join; a reconnect keeps both).
 */
#ifndef SIGNALD_MEMBER_H
#define SIGNALD_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define MEMBER_VIDEO  1u
#define MEMBER_AUDIO  2u
#define MEMBER_SCREEN 4u

/* The media fields as they are named on the wire and in records. */
#define MEMBER_MEDIA_FIELDS 3
struct member_media_field {
    const char *key;
    uint8_t bit;
};
extern const struct member_media_field member_media_fields[MEMBER_MEDIA_FIELDS];

/* Media flags: bit set in `known` = the field has been sent at least once;
 * the same bit in `on` = its value. */
struct member_media {
    uint8_t known;
    uint8_t on;
};

struct member {
    char *peer_id;
    char *name;
    char *role;        /* NULL when absent */
    char *node;        /* NULL when the record has none */
    char *conn;        /* NULL when the record has none */
    int64_t joined_at; /* ms since the epoch */
    int64_t seq;       /* join order within the room */
    struct member_media media;
};

/* A room's members, oldest join first. Owns its members. */
struct member_list {
    struct member *v;
    size_t n;
};

/* Builds the Redis value for m (peer_id is the hash field, not in the
 * value). Returns a malloc'd NUL-terminated string, or NULL on OOM. */
char *member_record_json(const struct member *m);

/* Parses a Redis value into m, taking peer_id as the field name. Copies
 * everything. Returns 0, or -1 if the value is not a JSON object with a
 * string "name" (m is then left zeroed). */
int member_from_record(struct member *m, const char *peer_id, size_t peer_len, const char *json,
                       size_t json_len);

void member_clear(struct member *m);

/* Merges src into dst: every field known in src overwrites dst. */
void member_media_merge(struct member_media *dst, struct member_media src);

/* {"video":true,...} with only the known fields; a new reference. */
json_t *member_media_json(struct member_media media);

/* Builds a list from a flat array [peer, record, peer, record, ...] (as
 * HGETALL returns it and as envelopes carry it), sorted by seq then
 * peer_id. Entries whose record does not parse are skipped. count is the
 * number of strings (twice the members). Returns 0, or -1 on OOM. */
int member_list_from_flat(struct member_list *list, const char *const *strs, const size_t *lens,
                          size_t count);

/* The member with this peer_id, or NULL. */
const struct member *member_list_find(const struct member_list *list, const char *peer_id);

void member_list_clear(struct member_list *list);

#endif
