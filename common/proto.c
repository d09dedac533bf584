/*
 * proto: see proto.h. The file runs decoding -> shared sub-builders ->
 * one builder per server frame. Builders only see data that was validated
 * on the way in (peer ids and names from verified tokens, chat text from
 * proto_decode), so the one way they fail is out-of-memory; a string that
 * is not valid UTF-8 also makes them return NULL rather than send bad JSON.
 */
#include "proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const proto_type_names[PROTO_TYPE_COUNT] = {
    [PROTO_OFFER] = "offer",
    [PROTO_ANSWER] = "answer",
    [PROTO_ICE_CANDIDATE] = "ice_candidate",
    [PROTO_MEDIA_STATE] = "media_state",
    [PROTO_CHAT] = "chat",
    [PROTO_PING] = "ping",
};

/* Longest client-supplied type name quoted back in an error message. */
#define PROTO_ECHO_MAX 32

const char *proto_type_name(enum proto_type type) {
    if ((int)type < 0 || type >= PROTO_TYPE_COUNT)
        return "unknown";
    return proto_type_names[type];
}

const char *proto_status_code(int status) {
    switch (status) {
    case PROTO_ERR_BAD_REQUEST:
        return "bad_request";
    case PROTO_ERR_UNKNOWN_TYPE:
        return "unknown_type";
    default:
        return NULL; /* PROTO_OK or not a proto_status: there is no error word */
    }
}

void proto_msg_clear(struct proto_msg *msg) {
    if (msg == NULL)
        return;
    json_decref(msg->root);
    memset(msg, 0, sizeof(*msg));
}

/* ---- Decoding ---- */

/* Writes the reason for a refusal. Reasons are ASCII, so truncation to
 * why_len cannot split a UTF-8 sequence and make the error frame invalid. */
static void proto_why(char *why, size_t why_len, const char *fmt, ...) {
    if (why == NULL || why_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* True if the client's type string is short printable ASCII, so quoting it
 * back cannot produce invalid UTF-8 or a huge message. */
static bool proto_echo_safe(const char *s, size_t len) {
    if (len == 0 || len > PROTO_ECHO_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '\'')
            return false;
    }
    return true;
}

static int proto_find_type(const json_t *type, enum proto_type *out) {
    const char *s = json_string_value(type);
    size_t len = json_string_length(type);
    for (int i = 0; i < PROTO_TYPE_COUNT; i++) {
        if (strlen(proto_type_names[i]) == len && memcmp(proto_type_names[i], s, len) == 0) {
            *out = (enum proto_type)i;
            return 0;
        }
    }
    return -1;
}

/* Checks the fields each type needs and fills the typed part of msg.
 * Returns PROTO_OK or PROTO_ERR_BAD_REQUEST with why filled. */
static int proto_check_fields(struct proto_msg *msg, const char *self, char *why, size_t why_len) {
    const json_t *root = msg->root;
    switch (msg->type) {
    case PROTO_OFFER:
    case PROTO_ANSWER:
    case PROTO_ICE_CANDIDATE: {
        const json_t *target = json_object_get(root, "target");
        if (!json_is_string(target) || json_string_length(target) == 0) {
            proto_why(why, why_len, "field 'target' must be a non-empty string");
            return PROTO_ERR_BAD_REQUEST;
        }
        if (self != NULL && strcmp(json_string_value(target), self) == 0) {
            proto_why(why, why_len, "field 'target' must not be the sender");
            return PROTO_ERR_BAD_REQUEST;
        }
        msg->target = json_string_value(target);
        return PROTO_OK;
    }
    case PROTO_MEDIA_STATE: {
        struct member_media media = {0, 0};
        for (size_t i = 0; i < MEMBER_MEDIA_FIELDS; i++) {
            const json_t *v = json_object_get(root, member_media_fields[i].key);
            if (v == NULL)
                continue;
            if (!json_is_boolean(v)) {
                proto_why(why, why_len, "field '%s' must be a boolean", member_media_fields[i].key);
                return PROTO_ERR_BAD_REQUEST;
            }
            media.known |= member_media_fields[i].bit;
            if (json_is_true(v))
                media.on |= member_media_fields[i].bit;
        }
        if (media.known == 0) {
            proto_why(why, why_len,
                      "media_state needs at least one of 'video', 'audio', 'screen_sharing'");
            return PROTO_ERR_BAD_REQUEST;
        }
        msg->media = media;
        return PROTO_OK;
    }
    case PROTO_CHAT: {
        const json_t *content = json_object_get(root, "content");
        if (!json_is_string(content) || json_string_length(content) == 0) {
            proto_why(why, why_len, "field 'content' must be a non-empty string");
            return PROTO_ERR_BAD_REQUEST;
        }
        if (json_string_length(content) > PROTO_MAX_CHAT_BYTES) {
            proto_why(why, why_len, "field 'content' is longer than %d bytes",
                      PROTO_MAX_CHAT_BYTES);
            return PROTO_ERR_BAD_REQUEST;
        }
        msg->content = json_string_value(content);
        msg->content_len = json_string_length(content);
        return PROTO_OK;
    }
    case PROTO_PING:
    default:
        return PROTO_OK;
    }
}

int proto_decode(const char *buf, size_t len, const char *self, struct proto_msg *msg, char *why,
                 size_t why_len) {
    memset(msg, 0, sizeof(*msg));
    if (why != NULL && why_len > 0)
        why[0] = '\0';
    if (buf == NULL || len == 0) {
        proto_why(why, why_len, "empty message: expected a JSON object");
        return PROTO_ERR_BAD_REQUEST;
    }

    /* JSON_DECODE_ANY lets a bare string or number parse, so that it gets
     * the clearer "not an object" reason. Without JSON_ALLOW_NUL, strings
     * with \u0000 are refused, so every string below is a plain C string.
     * jansson bounds nesting depth itself (JSON_PARSER_MAX_DEPTH). */
    json_error_t err;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (root == NULL) {
        /* jansson's text is ASCII apart from quoted input, which we drop. */
        proto_why(why, why_len, "invalid JSON at position %d", err.position);
        return PROTO_ERR_BAD_REQUEST;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        proto_why(why, why_len, "message must be a JSON object");
        return PROTO_ERR_BAD_REQUEST;
    }
    const json_t *type = json_object_get(root, "type");
    if (!json_is_string(type)) {
        json_decref(root);
        proto_why(why, why_len, "field 'type' must be a string");
        return PROTO_ERR_BAD_REQUEST;
    }
    enum proto_type t;
    if (proto_find_type(type, &t) != 0) {
        if (proto_echo_safe(json_string_value(type), json_string_length(type)))
            proto_why(why, why_len, "unknown message type '%s'", json_string_value(type));
        else
            proto_why(why, why_len, "unknown message type");
        json_decref(root);
        return PROTO_ERR_UNKNOWN_TYPE;
    }

    msg->type = t;
    msg->root = root;
    int rc = proto_check_fields(msg, self, why, why_len);
    if (rc != PROTO_OK)
        proto_msg_clear(msg);
    return rc;
}

/* ---- Shared sub-builders ---- */

/* Serializes obj compactly and releases it. NULL (and *len untouched) on
 * failure; obj may be NULL, so builders can pass a failed build through. */
static char *proto_dump(json_t *obj, size_t *len) {
    if (obj == NULL)
        return NULL;
    char *out = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (out != NULL && len != NULL)
        *len = strlen(out);
    return out;
}

/* Adds key = value (a new reference, may be NULL after a failed build).
 * On failure the object is released and NULL returned, so calls chain:
 * obj = proto_put(obj, ...). */
static json_t *proto_put(json_t *obj, const char *key, json_t *value) {
    if (obj == NULL) {
        json_decref(value);
        return NULL;
    }
    if (value == NULL || json_object_set_new(obj, key, value) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *proto_put_str(json_t *obj, const char *key, const char *value) {
    return proto_put(obj, key, json_string(value != NULL ? value : ""));
}

/* The frame object with its "type" already set. */
static json_t *proto_frame(const char *type) {
    return proto_put_str(json_object(), "type", type);
}

static json_t *proto_participant(const struct member *m) {
    json_t *p = json_object();
    p = proto_put_str(p, "peer_id", m->peer_id);
    p = proto_put_str(p, "name", m->name != NULL ? m->name : m->peer_id);
    if (m->role != NULL)
        p = proto_put_str(p, "role", m->role);
    if (m->media.known != 0)
        p = proto_put(p, "media", member_media_json(m->media));
    return p;
}

json_t *proto_participants(const struct member_list *members) {
    json_t *arr = json_array();
    if (arr == NULL || members == NULL)
        return arr;
    for (size_t i = 0; i < members->n; i++) {
        if (json_array_append_new(arr, proto_participant(&members->v[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* ---- One builder per server frame ---- */

char *proto_room_state(const char *room, const char *your_id, const struct member_list *members,
                       int max_participants, json_t *ice, size_t *len) {
    json_t *obj = proto_frame("room_state");
    obj = proto_put_str(obj, "room_id", room);
    obj = proto_put_str(obj, "your_id", your_id);
    obj = proto_put(obj, "participants", proto_participants(members));
    obj = proto_put(obj, "max_participants", json_integer(max_participants));
    /* ice is borrowed: json_incref gives the frame its own reference. */
    obj = proto_put(obj, "ice_servers", ice != NULL ? json_incref(ice) : json_array());
    return proto_dump(obj, len);
}

char *proto_peer_joined(const char *peer_id, const struct member_list *members, bool reconnected,
                        size_t *len) {
    const struct member *self = member_list_find(members, peer_id);
    json_t *info = json_object();
    info = proto_put_str(info, "name", self != NULL && self->name != NULL ? self->name : peer_id);
    if (self != NULL && self->role != NULL)
        info = proto_put_str(info, "role", self->role);

    json_t *obj = proto_frame("peer_joined");
    obj = proto_put_str(obj, "peer_id", peer_id);
    obj = proto_put(obj, "peer_info", info);
    obj = proto_put(obj, "participants", proto_participants(members));
    obj = proto_put(obj, "reconnected", json_boolean(reconnected));
    return proto_dump(obj, len);
}

char *proto_peer_left(const char *peer_id, const struct member_list *members, size_t *len) {
    json_t *obj = proto_frame("peer_left");
    obj = proto_put_str(obj, "peer_id", peer_id);
    obj = proto_put(obj, "participants", proto_participants(members));
    return proto_dump(obj, len);
}

char *proto_relay(const struct proto_msg *msg, const char *from, size_t *len) {
    if (msg == NULL || !json_is_object(msg->root))
        return NULL;
    /* A shallow copy shares the (unchanged) values with msg->root; only the
     * copy's own key table is edited, so msg->root stays as decoded. */
    json_t *obj = json_copy(msg->root);
    if (obj == NULL)
        return NULL;
    json_object_del(obj, "target");
    obj = proto_put_str(obj, "from_peer", from);
    return proto_dump(obj, len);
}

/* ---- Relaying without re-serialising ----
 *
 * A minimal walk over a JSON text jansson has already accepted (so it is
 * one valid object): it finds where each top-level member starts and ends,
 * skipping strings (and their escapes) and nested containers. Every step
 * still checks its bounds and gives up (returns 0) on anything unexpected.
 */

static size_t proto_skip_ws(const char *s, size_t i, size_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[i] is a quote: the index past the closing one, or 0. *escaped is set
 * when the string holds a backslash. */
static size_t proto_skip_string(const char *s, size_t i, size_t n, bool *escaped) {
    for (i++; i < n; i++) {
        if (s[i] == '\\') {
            *escaped = true;
            i++;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return 0;
}

/* The index past the value starting at s[i] (a scalar ends at the ',' or
 * '}' after it), or 0. */
static size_t proto_skip_value(const char *s, size_t i, size_t n) {
    int depth = 0;
    bool escaped = false;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            i = proto_skip_string(s, i, n, &escaped);
            if (i == 0 || depth == 0)
                return i;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i;
            if (--depth == 0)
                return i + 1;
        } else if (c == ',' && depth == 0) {
            return i;
        }
        i++;
    }
    return 0;
}

static bool proto_key_is(const char *key, size_t len, const char *name) {
    return len == strlen(name) && memcmp(key, name, len) == 0;
}

size_t proto_relay_splice(const char *buf, size_t len, const char *from_json, size_t from_len,
                          char *out, size_t cap) {
    static const char from_key[] = "\"from_peer\":";
    size_t i = proto_skip_ws(buf, 0, len), o = 0;
    bool first = true;
    if (cap < len + from_len + PROTO_SPLICE_EXTRA || i >= len || buf[i] != '{')
        return 0;
    out[o++] = '{';
    i = proto_skip_ws(buf, i + 1, len);
    while (i < len && buf[i] != '}') {
        bool escaped = false;
        size_t start = i;
        if (buf[i] != '"')
            return 0;
        size_t key_end = proto_skip_string(buf, i, len, &escaped);
        if (key_end == 0 || escaped)
            return 0;
        const char *key = buf + start + 1;
        size_t key_len = key_end - start - 2;
        i = proto_skip_ws(buf, key_end, len);
        if (i >= len || buf[i] != ':')
            return 0;
        size_t end = proto_skip_value(buf, proto_skip_ws(buf, i + 1, len), len);
        if (end == 0)
            return 0;
        if (!proto_key_is(key, key_len, "target") && !proto_key_is(key, key_len, "from_peer")) {
            if (!first)
                out[o++] = ',';
            memcpy(out + o, buf + start, end - start);
            o += end - start;
            first = false;
        }
        i = proto_skip_ws(buf, end, len);
        if (i < len && buf[i] == ',')
            i = proto_skip_ws(buf, i + 1, len);
        else if (i >= len || buf[i] != '}')
            return 0;
    }
    if (i >= len)
        return 0;
    if (!first)
        out[o++] = ',';
    memcpy(out + o, from_key, sizeof(from_key) - 1);
    o += sizeof(from_key) - 1;
    memcpy(out + o, from_json, from_len);
    o += from_len;
    out[o++] = '}';
    return o;
}

char *proto_media_state(const char *peer_id, struct member_media media, size_t *len) {
    json_t *obj = proto_frame("media_state");
    obj = proto_put_str(obj, "peer_id", peer_id);
    json_t *fields = member_media_json(media);
    if (obj != NULL && (fields == NULL || json_object_update(obj, fields) != 0)) {
        json_decref(obj);
        obj = NULL;
    }
    json_decref(fields);
    return proto_dump(obj, len);
}

char *proto_chat(const char *from, const char *from_name, const char *content, size_t content_len,
                 const char *timestamp, size_t *len) {
    json_t *obj = proto_frame("chat");
    obj = proto_put_str(obj, "from_peer", from);
    obj = proto_put_str(obj, "from_name", from_name != NULL ? from_name : from);
    obj =
        proto_put(obj, "content",
                  json_stringn(content != NULL ? content : "", content != NULL ? content_len : 0));
    obj = proto_put_str(obj, "timestamp", timestamp);
    return proto_dump(obj, len);
}

char *proto_pong(const struct proto_msg *ping, size_t *len) {
    json_t *obj = proto_frame("pong");
    json_t *ts = ping != NULL ? json_object_get(ping->root, "ts") : NULL;
    if (ts != NULL)
        obj = proto_put(obj, "ts", json_incref(ts));
    return proto_dump(obj, len);
}

char *proto_error(const char *code, const char *message, const char *target, json_t *livekit,
                  size_t *len) {
    json_t *obj = proto_frame("error");
    obj = proto_put_str(obj, "code", code);
    obj = proto_put_str(obj, "message", message);
    if (target != NULL)
        obj = proto_put_str(obj, "target", target);
    if (livekit != NULL)
        obj = proto_put(obj, "livekit", json_incref(livekit));
    return proto_dump(obj, len);
}
