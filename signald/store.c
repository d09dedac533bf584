/*
 * store: see store.h. A request keeps copies of its arguments until its
 * reply, so that a NOSCRIPT answer can be retried with the script's body.
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include "keys.h"
#include "log.h"

extern const char store_lua_join[];
extern const char store_lua_leave[];
extern const char store_lua_media[];
extern const char store_lua_assert[];
extern const char store_lua_node_beat[];
extern const char store_lua_reap_claim[];
extern const char store_lua_reap_done[];

enum store_script {
    STORE_JOIN = 0,
    STORE_LEAVE,
    STORE_MEDIA,
    STORE_ASSERT,
    STORE_BEAT,
    STORE_CLAIM,
    STORE_DONE,
    STORE_PLAIN, /* not a script: a plain command */
    STORE_SCRIPTS = STORE_PLAIN
};

static const char *const store_bodies[STORE_SCRIPTS] = {
    store_lua_join,      store_lua_leave,      store_lua_media,    store_lua_assert,
    store_lua_node_beat, store_lua_reap_claim, store_lua_reap_done};
static char store_sha[STORE_SCRIPTS][41];

#define STORE_MAX_ARGS 12

struct store_req {
    struct store *st;
    enum store_script script;
    store_cb cb;      /* typed result (join, leave, media), or */
    store_raw_cb raw; /* the reply as Redis sent it (NULL on failure) */
    void *data;
    int argc;
    char *argv[STORE_MAX_ARGS];
    size_t lens[STORE_MAX_ARGS];
    bool retried;
    bool counted; /* included in st->n_inflight */
};

static void store_req_free(struct store_req *req) {
    if (req->counted)
        req->st->n_inflight--;
    for (int i = req->script == STORE_PLAIN ? 0 : 2; i < req->argc; i++)
        free(req->argv[i]);
    free(req);
}

static void store_finish(struct store_req *req, struct store_result *res) {
    if (req->cb)
        req->cb(res, req->data);
}

static void store_fail(struct store_req *req) {
    struct store_result res = {.status = STORE_ERR};
    req->st->n_errors++;
    if (req->raw)
        req->raw(NULL, req->data);
    else
        store_finish(req, &res);
}

/* Builds a member list from a reply array of bulk strings. */
static int store_members(const redisReply *flat, struct member_list *list) {
    if (!flat || flat->type != REDIS_REPLY_ARRAY)
        return -1;
    size_t n = flat->elements;
    const char **strs = malloc((n + 1) * sizeof(*strs));
    size_t *lens = malloc((n + 1) * sizeof(*lens));
    int rc = strs && lens ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (flat->element[i]->type != REDIS_REPLY_STRING)
            rc = -1;
        else {
            strs[i] = flat->element[i]->str;
            lens[i] = flat->element[i]->len;
        }
    }
    if (rc == 0)
        rc = member_list_from_flat(list, strs, lens, n);
    free(strs);
    free(lens);
    return rc;
}

static int store_int(const redisReply *r, long long *out) {
    if (r->type != REDIS_REPLY_INTEGER)
        return -1;
    *out = r->integer;
    return 0;
}

/* Maps a script reply to a result; -1 when its shape is not the documented one. */
static int store_parse(enum store_script script, const redisReply *r, struct store_result *res) {
    long long head = 0, v = 0, rc = 0;
    if (script == STORE_MEDIA) {
        if (store_int(r, &head) < 0)
            return -1;
        res->status = head ? STORE_OK : STORE_NOOP;
        return 0;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || store_int(r->element[0], &head) < 0)
        return -1;
    if (head == 0) {
        res->status = script == STORE_JOIN ? STORE_FULL : STORE_NOOP;
        return 0;
    }
    res->status = STORE_OK;
    if (r->elements < 2 || store_int(r->element[1], &v) < 0)
        return -1;
    res->ver = v;
    if (script == STORE_JOIN) {
        if (r->elements < 5 || store_int(r->element[2], &rc) < 0 ||
            r->element[3]->type != REDIS_REPLY_STRING)
            return -1;
        res->reconnected = rc != 0;
        res->old_conn = r->element[3]->str;
        return store_members(r->element[4], &res->members);
    }
    if (v == 0)
        return 0;
    return r->elements >= 3 ? store_members(r->element[2], &res->members) : -1;
}

static int store_send(struct store_req *req);

static void store_on_reply(redisAsyncContext *ac, void *r, void *privdata) {
    struct store_req *req = privdata;
    redisReply *reply = r;
    struct store_result res = {0};
    (void)ac;

    if (!reply) {
        store_fail(req);
    } else if (reply->type == REDIS_REPLY_ERROR) {
        if (!req->retried && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            /* Redis lost its script cache (restart, SCRIPT FLUSH): send the body. */
            req->retried = true;
            if (store_send(req) == 0)
                return;
        } else {
            log_error("event=store_error script=%d err=\"%s\"", req->script, reply->str);
        }
        store_fail(req);
    } else if (req->raw || !req->cb) {
        rconn_alive(&req->st->link);
        if (req->raw)
            req->raw(reply, req->data);
    } else {
        rconn_alive(&req->st->link);
        if (store_parse(req->script, reply, &res) < 0) {
            log_error("event=store_bad_reply script=%d", req->script);
            member_list_clear(&res.members);
            store_fail(req);
        } else {
            store_finish(req, &res);
            member_list_clear(&res.members);
        }
    }
    store_req_free(req);
}

static int store_send(struct store_req *req) {
    if (req->script == STORE_PLAIN) {
        return rconn_command_argv(&req->st->link, store_on_reply, req, req->argc,
                                  (const char **)req->argv, req->lens);
    }
    if (req->retried) {
        req->argv[0] = "EVAL";
        req->argv[1] = (char *)store_bodies[req->script];
    } else {
        req->argv[0] = "EVALSHA";
        req->argv[1] = store_sha[req->script];
    }
    req->lens[0] = strlen(req->argv[0]);
    req->lens[1] = strlen(req->argv[1]);
    return rconn_command_argv(&req->st->link, store_on_reply, req, req->argc,
                              (const char **)req->argv, req->lens);
}

/* Starts a script call (or a plain command for STORE_PLAIN); args are
 * NUL-terminated strings, NULL last. */
static int store_call_any(struct store *st, enum store_script script, store_cb cb, store_raw_cb raw,
                          void *data, const char **args) {
    struct store_req *req = calloc(1, sizeof(*req));
    if (!req)
        return -1;
    req->st = st;
    req->script = script;
    req->cb = cb;
    req->raw = raw;
    req->data = data;
    req->argc = script == STORE_PLAIN ? 0 : 2;
    for (; *args && req->argc < STORE_MAX_ARGS; args++) {
        req->lens[req->argc] = strlen(*args);
        req->argv[req->argc] = strdup(*args);
        if (!req->argv[req->argc++]) {
            store_req_free(req);
            return -1;
        }
    }
    st->n_calls++;
    if (store_send(req) < 0) {
        store_req_free(req);
        st->n_errors++;
        return -1;
    }
    req->counted = true;
    st->n_inflight++;
    return 0;
}

static int store_call(struct store *st, enum store_script script, store_cb cb, void *data,
                      const char **args) {
    return store_call_any(st, script, cb, NULL, data, args);
}

int store_join(struct store *st, const char *room, const char *peer, const char *record, int max,
               store_cb cb, void *data) {
    char members[KEYS_MAX], ver[KEYS_MAX], channel[KEYS_MAX], maxs[16];
    if (keys_room_members(members, sizeof(members), room) < 0 ||
        keys_room_version(ver, sizeof(ver), room) < 0 ||
        keys_room_channel(channel, sizeof(channel), room) < 0)
        return -1;
    snprintf(maxs, sizeof(maxs), "%d", max);
    const char *args[] = {"2", members, ver, peer, record, maxs, channel, st->node_id, room, NULL};
    return store_call(st, STORE_JOIN, cb, data, args);
}

int store_leave(struct store *st, const char *room, const char *peer, const char *conn, store_cb cb,
                void *data) {
    char members[KEYS_MAX], ver[KEYS_MAX], channel[KEYS_MAX];
    if (keys_room_members(members, sizeof(members), room) < 0 ||
        keys_room_version(ver, sizeof(ver), room) < 0 ||
        keys_room_channel(channel, sizeof(channel), room) < 0)
        return -1;
    const char *args[] = {"2", members, ver, peer, conn, channel, st->node_id, room, "conn", NULL};
    return store_call(st, STORE_LEAVE, cb, data, args);
}

int store_media(struct store *st, const char *room, const char *peer, const char *conn,
                const char *media_json) {
    char members[KEYS_MAX];
    if (keys_room_members(members, sizeof(members), room) < 0)
        return -1;
    const char *args[] = {"1", members, peer, conn, media_json, NULL};
    return store_call(st, STORE_MEDIA, NULL, NULL, args);
}

int store_reap_member(struct store *st, const char *room, const char *peer, const char *node) {
    char members[KEYS_MAX], ver[KEYS_MAX], channel[KEYS_MAX];
    if (keys_room_members(members, sizeof(members), room) < 0 ||
        keys_room_version(ver, sizeof(ver), room) < 0 ||
        keys_room_channel(channel, sizeof(channel), room) < 0)
        return -1;
    const char *args[] = {"2", members, ver, peer, node, channel, st->node_id, room, "node", NULL};
    return store_call(st, STORE_LEAVE, NULL, NULL, args);
}

int store_assert(struct store *st, const char *room, const char *peer, const char *record,
                 const char *conn, store_raw_cb cb, void *data) {
    char members[KEYS_MAX];
    if (keys_room_members(members, sizeof(members), room) < 0)
        return -1;
    const char *args[] = {"1", members, peer, record, conn, NULL};
    return store_call_any(st, STORE_ASSERT, NULL, cb, data, args);
}

int store_node_member(struct store *st, bool add, const char *room, const char *peer) {
    char set[KEYS_MAX], entry[KEYS_MAX];
    if (keys_node_members(set, sizeof(set), st->node_id) < 0 ||
        snprintf(entry, sizeof(entry), "%s %s", room, peer) >= (int)sizeof(entry))
        return -1;
    const char *args[] = {add ? "SADD" : "SREM", set, entry, NULL};
    return store_call_any(st, STORE_PLAIN, NULL, NULL, NULL, args);
}

int store_node_members(struct store *st, store_raw_cb cb, void *data) {
    char set[KEYS_MAX];
    if (keys_node_members(set, sizeof(set), st->node_id) < 0)
        return -1;
    const char *args[] = {"SMEMBERS", set, NULL};
    return store_call_any(st, STORE_PLAIN, NULL, cb, data, args);
}

int store_beat(struct store *st, uint32_t lease_ms, const char *value, store_raw_cb cb,
               void *data) {
    char lease[KEYS_MAX], dead[KEYS_MAX], nodes[KEYS_MAX], ms[16];
    if (keys_node_lease(lease, sizeof(lease), st->node_id) < 0 ||
        keys_node_dead(dead, sizeof(dead), st->node_id) < 0 || keys_nodes(nodes, sizeof(nodes)) < 0)
        return -1;
    snprintf(ms, sizeof(ms), "%u", lease_ms);
    const char *args[] = {"3", lease, dead, nodes, st->node_id, ms, value, NULL};
    return store_call_any(st, STORE_BEAT, NULL, cb, data, args);
}

int store_set_lease(struct store *st, uint32_t lease_ms, const char *value) {
    char lease[KEYS_MAX], ms[16];
    if (keys_node_lease(lease, sizeof(lease), st->node_id) < 0)
        return -1;
    snprintf(ms, sizeof(ms), "%u", lease_ms);
    const char *args[] = {"SET", lease, value, "PX", ms, NULL};
    return store_call_any(st, STORE_PLAIN, NULL, NULL, NULL, args);
}

int store_reap_claim(struct store *st, uint32_t claim_ms, uint32_t tombstone_s, store_raw_cb cb,
                     void *data) {
    char nodes[KEYS_MAX], ms[16], secs[16];
    if (keys_nodes(nodes, sizeof(nodes)) < 0)
        return -1;
    snprintf(ms, sizeof(ms), "%u", claim_ms);
    snprintf(secs, sizeof(secs), "%u", tombstone_s);
    const char *args[] = {"1",
                          nodes,
                          st->node_id,
                          ms,
                          secs,
                          KEYS_NODE_PREFIX,
                          KEYS_NODE_MEMBERS_SUFFIX,
                          KEYS_NODE_DEAD_SUFFIX,
                          KEYS_NODE_REAPING_SUFFIX,
                          NULL};
    return store_call_any(st, STORE_CLAIM, NULL, cb, data, args);
}

int store_reap_done(struct store *st, const char *node) {
    char nodes[KEYS_MAX], lease[KEYS_MAX], members[KEYS_MAX], claim[KEYS_MAX];
    if (keys_nodes(nodes, sizeof(nodes)) < 0 || keys_node_lease(lease, sizeof(lease), node) < 0 ||
        keys_node_members(members, sizeof(members), node) < 0 ||
        keys_node_reaping(claim, sizeof(claim), node) < 0)
        return -1;
    const char *args[] = {"4", nodes, lease, members, claim, node, NULL};
    return store_call_any(st, STORE_DONE, NULL, NULL, NULL, args);
}

static void store_on_link(struct rconn *rc, enum rconn_state state, void *data) {
    struct store *st = data;
    (void)rc;
    if (st->on_link)
        st->on_link(state == RCONN_UP, st->data);
}

int store_start(struct store *st) {
    for (int i = 0; i < STORE_SCRIPTS; i++) {
        unsigned char md[SHA_DIGEST_LENGTH];
        SHA1((const unsigned char *)store_bodies[i], strlen(store_bodies[i]), md);
        for (int j = 0; j < SHA_DIGEST_LENGTH; j++)
            snprintf(store_sha[i] + 2 * j, 3, "%02x", md[j]);
    }
    st->link.ping = true;
    st->link.on_state = store_on_link;
    st->link.data = st;
    return rconn_start(&st->link);
}

void store_stop(struct store *st) {
    rconn_stop(&st->link);
}
