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

enum store_script { STORE_JOIN = 0, STORE_LEAVE, STORE_MEDIA, STORE_SCRIPTS };

static const char *const store_bodies[STORE_SCRIPTS] = {store_lua_join, store_lua_leave,
                                                        store_lua_media};
static char store_sha[STORE_SCRIPTS][41];

#define STORE_MAX_ARGS 12

struct store_req {
    struct store *st;
    enum store_script script;
    store_cb cb;
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
    for (int i = 2; i < req->argc; i++)
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

/* Starts a script call; args are NUL-terminated strings, NULL last. */
static int store_call(struct store *st, enum store_script script, store_cb cb, void *data,
                      const char **args) {
    struct store_req *req = calloc(1, sizeof(*req));
    if (!req)
        return -1;
    req->st = st;
    req->script = script;
    req->cb = cb;
    req->data = data;
    req->argc = 2;
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
    const char *args[] = {"2", members, ver, peer, conn, channel, st->node_id, room, NULL};
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

int store_start(struct store *st) {
    for (int i = 0; i < STORE_SCRIPTS; i++) {
        unsigned char md[SHA_DIGEST_LENGTH];
        SHA1((const unsigned char *)store_bodies[i], strlen(store_bodies[i]), md);
        for (int j = 0; j < SHA_DIGEST_LENGTH; j++)
            snprintf(store_sha[i] + 2 * j, 3, "%02x", md[j]);
    }
    st->link.ping = true;
    return rconn_start(&st->link);
}

void store_stop(struct store *st) {
    rconn_stop(&st->link);
}
