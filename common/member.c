/*
 * member: see member.h. Records are written by this file and by the join
 * script (Lua cjson), so parsing is lenient about what it does not need:
 * unknown keys are ignored, optional keys may be missing, and numbers may
 * come as reals with an integral value.
 */
#include "member.h"

#include <stdlib.h>
#include <string.h>

/* Internal parse results, so that the list builder can tell a bad record
 * (skipped) from out-of-memory (the whole call fails). */
enum member_parse {
    MEMBER_PARSE_OK = 0,
    MEMBER_PARSE_INVALID = -1,
    MEMBER_PARSE_NOMEM = -2,
};

const struct member_media_field member_media_fields[MEMBER_MEDIA_FIELDS] = {
    {"video", MEMBER_VIDEO},
    {"audio", MEMBER_AUDIO},
    {"screen_sharing", MEMBER_SCREEN},
};

/* ---- Small helpers ---- */

/* A malloc'd NUL-terminated copy of len bytes; NULL on OOM. */
static char *member_strndup(const char *s, size_t len) {
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    if (len > 0)
        memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* Sets key to a new string value; -1 if the value cannot be built (OOM or
 * invalid UTF-8) or stored. json_object_set_new consumes the value either
 * way, so nothing leaks on failure. */
static int member_set_string(json_t *obj, const char *key, const char *value) {
    json_t *v = json_string(value);
    if (v == NULL)
        return -1;
    return json_object_set_new(obj, key, v);
}

static int member_set_int(json_t *obj, const char *key, int64_t value) {
    json_t *v = json_integer((json_int_t)value);
    if (v == NULL)
        return -1;
    return json_object_set_new(obj, key, v);
}

/* Reads an integer that cjson may have written as a real: 0 and *out on
 * success, -1 if v is not a number with an integral value in range. */
static int member_json_int64(const json_t *v, int64_t *out) {
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* The range check comes first: converting an out-of-range double
         * to an integer is undefined. */
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            return -1;
        int64_t i = (int64_t)d;
        if ((double)i != d)
            return -1;
        *out = i;
        return 0;
    }
    return -1;
}

/* Copies an optional string member: *out stays NULL when the key is missing
 * or not a string. Returns -1 only on OOM. */
static int member_copy_optional(const json_t *obj, const char *key, char **out) {
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return 0;
    *out = member_strndup(json_string_value(v), json_string_length(v));
    return *out == NULL ? -1 : 0;
}

/* ---- Records ---- */

char *member_record_json(const struct member *m) {
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    /* A record without a name could not be read back; fall back to the
     * peer_id, as PROTOCOL.md does for tokens without a name. */
    const char *name = m->name != NULL ? m->name : (m->peer_id != NULL ? m->peer_id : "");
    int rc = member_set_string(obj, "name", name);
    if (rc == 0 && m->role != NULL)
        rc = member_set_string(obj, "role", m->role);
    if (rc == 0 && m->node != NULL)
        rc = member_set_string(obj, "node", m->node);
    if (rc == 0 && m->conn != NULL)
        rc = member_set_string(obj, "conn", m->conn);
    if (rc == 0)
        rc = member_set_int(obj, "joined_at", m->joined_at);
    if (rc == 0)
        rc = member_set_int(obj, "seq", m->seq);
    if (rc == 0 && m->media.known != 0) {
        json_t *media = member_media_json(m->media);
        rc = media == NULL ? -1 : json_object_set_new(obj, "media", media);
    }
    char *out = NULL;
    if (rc == 0)
        out = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    return out;
}

static struct member_media member_media_from_json(const json_t *obj) {
    struct member_media media = {0, 0};
    if (!json_is_object(obj))
        return media;
    for (size_t i = 0; i < MEMBER_MEDIA_FIELDS; i++) {
        const json_t *v = json_object_get(obj, member_media_fields[i].key);
        if (!json_is_boolean(v))
            continue;
        media.known |= member_media_fields[i].bit;
        if (json_is_true(v))
            media.on |= member_media_fields[i].bit;
    }
    return media;
}

static enum member_parse member_parse(struct member *m, const char *peer_id, size_t peer_len,
                                      const char *json, size_t json_len) {
    memset(m, 0, sizeof(*m));
    if (peer_id == NULL || json == NULL)
        return MEMBER_PARSE_INVALID;

    json_error_t err;
    json_t *root = json_loadb(json, json_len, 0, &err);
    if (root == NULL) {
        /* jansson reports allocation failures as json_error_out_of_memory. */
        return json_error_code(&err) == json_error_out_of_memory ? MEMBER_PARSE_NOMEM
                                                                 : MEMBER_PARSE_INVALID;
    }
    const json_t *name = json_object_get(root, "name");
    if (!json_is_object(root) || !json_is_string(name)) {
        json_decref(root);
        return MEMBER_PARSE_INVALID;
    }

    m->peer_id = member_strndup(peer_id, peer_len);
    m->name = member_strndup(json_string_value(name), json_string_length(name));
    if (m->peer_id == NULL || m->name == NULL || member_copy_optional(root, "role", &m->role) ||
        member_copy_optional(root, "node", &m->node) ||
        member_copy_optional(root, "conn", &m->conn)) {
        json_decref(root);
        member_clear(m);
        return MEMBER_PARSE_NOMEM;
    }
    /* Missing or malformed numbers read as 0: the record is still usable,
     * it just sorts first. */
    if (member_json_int64(json_object_get(root, "joined_at"), &m->joined_at) != 0)
        m->joined_at = 0;
    if (member_json_int64(json_object_get(root, "seq"), &m->seq) != 0)
        m->seq = 0;
    m->media = member_media_from_json(json_object_get(root, "media"));
    json_decref(root);
    return MEMBER_PARSE_OK;
}

int member_from_record(struct member *m, const char *peer_id, size_t peer_len, const char *json,
                       size_t json_len) {
    return member_parse(m, peer_id, peer_len, json, json_len) == MEMBER_PARSE_OK ? 0 : -1;
}

void member_clear(struct member *m) {
    if (m == NULL)
        return;
    free(m->peer_id);
    free(m->name);
    free(m->role);
    free(m->node);
    free(m->conn);
    memset(m, 0, sizeof(*m));
}

/* ---- Media ---- */

void member_media_merge(struct member_media *dst, struct member_media src) {
    /* Only bits known in src change; an unknown src bit with a stray "on"
     * value is ignored. */
    dst->on = (uint8_t)((dst->on & ~src.known) | (src.on & src.known));
    dst->known |= src.known;
}

json_t *member_media_json(struct member_media media) {
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    for (size_t i = 0; i < MEMBER_MEDIA_FIELDS; i++) {
        uint8_t bit = member_media_fields[i].bit;
        if (!(media.known & bit))
            continue;
        if (json_object_set_new(obj, member_media_fields[i].key, json_boolean(media.on & bit))) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

/* ---- Lists ---- */

static int member_compare(const void *a, const void *b) {
    const struct member *x = a;
    const struct member *y = b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return strcmp(x->peer_id, y->peer_id);
}

int member_list_from_flat(struct member_list *list, const char *const *strs, const size_t *lens,
                          size_t count) {
    /* list is an output: whatever it held before is not freed. */
    list->v = NULL;
    list->n = 0;
    size_t pairs = count / 2; /* a trailing odd string has no record: ignored */
    if (pairs == 0 || strs == NULL || lens == NULL)
        return 0;

    struct member *v = calloc(pairs, sizeof(*v));
    if (v == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < pairs; i++) {
        const char *peer = strs[2 * i];
        const char *record = strs[2 * i + 1];
        if (peer == NULL || record == NULL)
            continue;
        enum member_parse rc = member_parse(&v[n], peer, lens[2 * i], record, lens[2 * i + 1]);
        if (rc == MEMBER_PARSE_OK) {
            n++;
        } else if (rc == MEMBER_PARSE_NOMEM) {
            list->v = v;
            list->n = n;
            member_list_clear(list);
            return -1;
        }
    }
    if (n == 0) {
        free(v);
        return 0;
    }
    qsort(v, n, sizeof(*v), member_compare);
    list->v = v;
    list->n = n;
    return 0;
}

const struct member *member_list_find(const struct member_list *list, const char *peer_id) {
    if (list == NULL || peer_id == NULL)
        return NULL;
    for (size_t i = 0; i < list->n; i++) {
        if (strcmp(list->v[i].peer_id, peer_id) == 0)
            return &list->v[i];
    }
    return NULL;
}

void member_list_clear(struct member_list *list) {
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->n; i++)
        member_clear(&list->v[i]);
    free(list->v);
    list->v = NULL;
    list->n = 0;
}
