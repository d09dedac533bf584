/*
 * room: see room.h.
 *
 * Ordering. Messages from one sender reach each receiver in order: a
 * receiver on the sender's node gets every one of them directly, a receiver
 * elsewhere gets every one of them through the node's single command link
 * and its node's single subscriber link, both of which Redis keeps in order.
 *
 * Membership events (JOINED, LEFT) are published by the Lua scripts in the
 * same atomic step as the change, carry the room version and the whole
 * member list, and reach a node both as the reply of its own script and as
 * a pub/sub message. Each connection remembers the newest version it was
 * told about, so whichever copy arrives first is delivered and the other is
 * dropped.
 */
#include "room.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envelope.h"
#include "ice.h"
#include "keys.h"
#include "livekit.h"
#include "log.h"
#include "proto.h"
#include "server.h"

#define ROOM_RATE_ERROR_EVERY_MS 1000
#define ROOM_RATE_RUN_GAP_MS     1000 /* refusals further apart start a new run */

static const char *room_peer(const struct conn *c) {
    return c->ident.peer_id ? c->ident.peer_id : "-";
}

/* ---- Lifetime ---- */

static void room_channels_release(struct server *srv, struct conn *c) {
    char peer_ch[KEYS_MAX];
    if (!c->channels_held)
        return;
    c->channels_held = false;
    if (c->lroom)
        bus_unref(&srv->bus, c->lroom->channel);
    if (keys_peer_channel(peer_ch, sizeof(peer_ch), c->room, c->ident.peer_id) > 0)
        bus_unref(&srv->bus, peer_ch);
}

/* Takes c out of every list and frees it. */
static void room_release(struct server *srv, struct conn *c) {
    room_channels_release(srv, c);
    if (c->state == CONN_HELD)
        lws_dll2_remove(&c->held_link);
    registry_room_remove(&srv->reg, c);
    registry_remove(&srv->reg, c);
    conn_free(c);
}

static void room_fail(struct conn *c, int close_code, const char *code, const char *message) {
    c->state = CONN_CLOSED;
    c->end = CONN_END_NONE;
    /* Reading was paused for the join: the client's answer to the close
     * frame must get through, or the socket waits out the close timeout. */
    if (c->wsi)
        lws_rx_flow_control(c->wsi, 1);
    conn_close(c, close_code, code, message);
}

/* ---- Delivery ---- */

static void room_send_local(struct lroom *room, struct frame *f) {
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&room->conns)) {
        struct conn *c = lws_container_of(d, struct conn, room_link);
        if (c->state == CONN_JOINED)
            conn_send(c, f);
    }
    lws_end_foreach_dll(d);
}

/* True when some member of the room is not on this node. */
static bool room_has_remote(struct lroom *room) {
    for (size_t i = 0; i < room->members.n; i++)
        if (!registry_room_peer(room, room->members.v[i].peer_id,
                                CONN_IN(CONN_JOINED) | CONN_IN(CONN_HELD) | CONN_IN(CONN_JOINING)))
            return true;
    return false;
}

static int room_publish(struct server *srv, const char *channel, enum envelope_kind kind,
                        const struct conn *from, const char *target, struct frame *f) {
    struct envelope e = {
        .kind = kind,
        .origin = srv->cfg->node_id,
        .room = (char *)from->room,
        .peer = from->ident.peer_id,
        .target = (char *)target,
        .body = (char *)frame_payload(f),
        .body_len = f->len,
        .ts_us = clock_real_us(),
    };
    char *buf;
    size_t len;
    if (envelope_encode(&e, &buf, &len) < 0)
        return -1;
    int rc = bus_publish(&srv->bus, channel, buf, len, NULL, NULL);
    free(buf);
    return rc;
}

/* ---- Membership events ---- */

/* True when a local connection of the room is still joining: events must
 * then be kept for it, since its room_state may predate them. */
static bool room_has_joiner(struct lroom *room) {
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&room->conns)) {
        if (lws_container_of(d, struct conn, room_link)->state == CONN_JOINING)
            return true;
    }
    lws_end_foreach_dll(d);
    return false;
}

/* Keeps an event for the room's joiners, if it has any. */
static void room_keep(struct lroom *room, int64_t ver, const char *peer, const char *conn,
                      struct frame *f) {
    if (f && room_has_joiner(room))
        registry_room_log(room, ver, peer, conn, f);
    else if (room->n_log)
        registry_room_log_clear(room);
}

/* Retires c, an older connection of a peer that joined again elsewhere
 * (or here). Returns true when c was freed. */
static bool room_retire(struct server *srv, struct conn *c, const char *by) {
    log_info("event=replaced room=%s peer=%s conn=%s by=%s held=%d", c->room, c->ident.peer_id,
             c->tag, by, c->state == CONN_HELD);
    if (c->state == CONN_HELD) {
        room_release(srv, c);
        return true;
    }
    c->state = CONN_CLOSED;
    c->end = CONN_END_REPLACED;
    conn_close(c, 4000, "replaced", "replaced by a newer connection");
    return false;
}

/* Someone joined (or reconnected through) conn_tag at version ver: tells
 * the local members who have not heard of it, retires an older local
 * connection of the same peer, and keeps the event for local joiners. */
static void room_apply_joined(struct server *srv, struct lroom *room, const char *peer,
                              const char *conn_tag, int64_t ver, bool reconnected,
                              const struct member_list *members) {
    size_t len;
    struct frame *f = frame_take(proto_peer_joined(peer, members, reconnected, &len), &len);
    room_keep(room, ver, peer, conn_tag, f);
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&room->conns)) {
        struct conn *c = lws_container_of(d, struct conn, room_link);
        bool same = strcmp(c->ident.peer_id, peer) == 0;
        if (same && strcmp(c->tag, conn_tag) != 0 && c->join_ver < ver &&
            (c->state == CONN_HELD || c->state == CONN_JOINED)) {
            if (room_retire(srv, c, conn_tag) && !d1)
                break; /* the room may be gone with its last connection */
        } else if (!same && c->state == CONN_JOINED && c->seen_ver < ver) {
            c->seen_ver = ver;
            conn_send(c, f);
        }
    }
    lws_end_foreach_dll_safe(d, d1);
    frame_unref(f);
}

static void room_apply_left(struct lroom *room, const char *peer, int64_t ver,
                            const struct member_list *members) {
    size_t len;
    struct frame *f = frame_take(proto_peer_left(peer, members, &len), &len);
    room_keep(room, ver, peer, NULL, f);
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&room->conns)) {
        struct conn *c = lws_container_of(d, struct conn, room_link);
        if (c->state == CONN_JOINED && c->seen_ver < ver && strcmp(c->ident.peer_id, peer) != 0) {
            c->seen_ver = ver;
            conn_send(c, f);
        }
    }
    lws_end_foreach_dll(d);
    frame_unref(f);
}

/* A joiner's room_state reflects version c->join_ver: tells it what this
 * node learnt of the room since, in order. Returns false if c itself was
 * replaced meanwhile. */
static bool room_replay(struct server *srv, struct conn *c) {
    struct lroom *room = c->lroom;
    for (size_t i = 0; i < room->n_log; i++) {
        struct lroom_event *e = &room->log[i];
        if (e->ver <= c->seen_ver)
            continue;
        if (strcmp(e->peer, c->ident.peer_id) == 0) {
            if (e->conn && strcmp(e->conn, c->tag) != 0) {
                room_retire(srv, c, e->conn);
                return false;
            }
            continue;
        }
        c->seen_ver = e->ver;
        conn_send(c, e->frame);
    }
    if (!room_has_joiner(room))
        registry_room_log_clear(room);
    return true;
}

/* True when another local connection of c's peer is in c's room: the
 * node's member entry is then still needed. */
static bool room_peer_elsewhere_here(const struct conn *c) {
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&c->lroom->conns)) {
        const struct conn *o = lws_container_of(d, struct conn, room_link);
        if (o != c && o->state != CONN_CLOSED && strcmp(o->ident.peer_id, c->ident.peer_id) == 0)
            return true;
    }
    lws_end_foreach_dll(d);
    return false;
}

static void room_untrack(struct server *srv, const struct conn *c) {
    if (c->lroom && !room_peer_elsewhere_here(c))
        store_node_member(&srv->store, false, c->room, c->ident.peer_id);
}

/* ---- Joining ---- */

static void room_join_reply(struct store_result *res, void *data);

char *room_record(struct server *srv, struct conn *c) {
    const struct member *known =
        c->lroom ? member_list_find(&c->lroom->members, c->ident.peer_id) : NULL;
    struct member m = {
        .peer_id = c->ident.peer_id,
        .name = c->ident.name,
        .role = c->ident.role,
        .node = srv->cfg->node_id,
        .conn = c->tag,
        .joined_at = known ? known->joined_at : 0,
        .seq = known ? known->seq : 0,
        .media = c->media,
    };
    return member_record_json(&m);
}

static void room_join_send(struct server *srv, struct conn *c) {
    char *record = room_record(srv, c);
    /* Recorded as held by this node before it is a member, so that a crash
     * in between leaves only a harmless extra entry for the sweep. */
    store_node_member(&srv->store, true, c->room, c->ident.peer_id);
    int rc = record
                 ? store_join(&srv->store, c->room, c->ident.peer_id, record,
                              srv->cfg->max_participants, room_join_reply, (void *)(uintptr_t)c->id)
                 : -1;
    free(record);
    if (rc < 0) {
        srv->metrics.joins[METRICS_JOIN_UNAVAILABLE]++;
        room_fail(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "unavailable",
                  "the cluster store is unreachable");
        return;
    }
    c->join_sent = true;
}

void room_open(struct server *srv, struct conn *c) {
    char peer_ch[KEYS_MAX];
    if (!rconn_is_up(&srv->store.link) || !rconn_is_up(&srv->bus.sub)) {
        srv->metrics.joins[METRICS_JOIN_UNAVAILABLE]++;
        room_fail(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "unavailable",
                  "the cluster store is unreachable");
        return;
    }
    struct lroom *room = registry_room(&srv->reg, c->room, true);
    if (!room || keys_peer_channel(peer_ch, sizeof(peer_ch), c->room, c->ident.peer_id) < 0) {
        room_fail(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "unavailable", "out of memory");
        return;
    }
    registry_room_add(&srv->reg, room, c);
    c->state = CONN_JOINING;
    /* Nothing the client sends is read until it has its room_state. */
    lws_rx_flow_control(c->wsi, 0);

    int a = bus_ref(&srv->bus, room->channel, c->id);
    int b = a < 0 ? -1 : bus_ref(&srv->bus, peer_ch, c->id);
    if (b < 0) {
        if (a >= 0)
            bus_unref(&srv->bus, room->channel);
        room_fail(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "unavailable", "out of memory");
        return;
    }
    c->channels_held = true;
    c->waits = (a == 0) + (b == 0);
    if (c->waits == 0)
        room_join_send(srv, c);
}

void room_on_confirm(uint64_t id, bool ok, void *data) {
    struct server *srv = data;
    struct conn *c = registry_conn(&srv->reg, id);
    if (!c || c->state != CONN_JOINING || c->join_sent)
        return;
    if (!ok) {
        srv->metrics.joins[METRICS_JOIN_UNAVAILABLE]++;
        room_fail(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "unavailable",
                  "the cluster store is unreachable");
        return;
    }
    if (--c->waits == 0)
        room_join_send(srv, c);
}

static void room_refuse_full(struct server *srv, struct conn *c) {
    size_t len;
    json_t *lk = NULL;
    srv->metrics.joins[METRICS_JOIN_FULL]++;
    if (srv->cfg->livekit_url && srv->cfg->livekit_url[0])
        lk = livekit_offer(srv->cfg, c->ident.peer_id, c->ident.name, c->room,
                           clock_real_ms() / 1000);
    struct frame *f =
        frame_take(proto_error("room_full", "the room is full", NULL, lk, &len), &len);
    json_decref(lk);
    conn_send(c, f);
    frame_unref(f);
    room_fail(c, 4008, NULL, NULL);
    snprintf(c->close_reason, sizeof(c->close_reason), "room_full");
}

static void room_send_state(struct server *srv, struct conn *c, const struct member_list *members) {
    size_t len;
    json_t *ice = ice_servers(srv->cfg, c->ident.peer_id, clock_real_ms() / 1000);
    struct frame *f = frame_take(
        proto_room_state(c->room, c->ident.peer_id, members, srv->cfg->max_participants, ice, &len),
        &len);
    json_decref(ice);
    conn_send(c, f);
    frame_unref(f);
}

static void room_join_reply(struct store_result *res, void *data) {
    struct server *srv = server_get();
    struct conn *c = registry_conn(&srv->reg, (uint64_t)(uintptr_t)data);
    if (!c)
        return;
    if (!c->wsi) {
        /* The socket went away while the script ran: undo the join. */
        if (res->status == STORE_OK)
            store_leave(&srv->store, c->room, c->ident.peer_id, c->tag, NULL, NULL);
        room_release(srv, c);
        return;
    }
    if (res->status != STORE_OK)
        room_untrack(srv, c);
    if (res->status == STORE_FULL) {
        room_refuse_full(srv, c);
        return;
    }
    if (res->status != STORE_OK) {
        srv->metrics.joins[METRICS_JOIN_UNAVAILABLE]++;
        room_fail(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "unavailable",
                  "the cluster store is unreachable");
        return;
    }
    const struct member *self = member_list_find(&res->members, c->ident.peer_id);
    if (self)
        c->media = self->media;
    c->state = CONN_JOINED;
    c->join_ver = c->seen_ver = res->ver;
    srv->metrics.joins[res->reconnected ? METRICS_JOIN_RECONNECTED : METRICS_JOIN_OK]++;
    log_info("event=join room=%s peer=%s conn=%s reconnected=%d members=%zu", c->room,
             c->ident.peer_id, c->tag, res->reconnected, res->members.n);
    room_send_state(srv, c, &res->members);
    lws_rx_flow_control(c->wsi, 1);
    if (!room_replay(srv, c))
        return;
    room_apply_joined(srv, c->lroom, c->ident.peer_id, c->tag, res->ver, res->reconnected,
                      &res->members);
    registry_room_update(c->lroom, res->ver, &res->members);
}

/* ---- Leaving ---- */

/* Tells the local members that c's peer left, from the node's own view of
 * the room: used while Redis is unreachable. */
static void room_leave_locally(struct lroom *room, const char *peer) {
    for (size_t i = 0; i < room->members.n; i++) {
        if (strcmp(room->members.v[i].peer_id, peer) == 0) {
            member_clear(&room->members.v[i]);
            memmove(&room->members.v[i], &room->members.v[i + 1],
                    (room->members.n - i - 1) * sizeof(room->members.v[0]));
            room->members.n--;
            break;
        }
    }
    room->ver++;
    room_apply_left(room, peer, room->ver, &room->members);
}

static void room_leave_now(struct server *srv, struct conn *c) {
    srv->metrics.leaves_total++;
    log_info("event=leave room=%s peer=%s conn=%s", c->room, room_peer(c), c->tag);
    if (store_leave(&srv->store, c->room, c->ident.peer_id, c->tag, NULL, NULL) == 0) {
        room_untrack(srv, c);
    } else {
        log_warn("event=leave_deferred room=%s peer=%s conn=%s", c->room, room_peer(c), c->tag);
        node_defer_leave(srv, c->room, c->ident.peer_id, c->tag);
        room_leave_locally(c->lroom, c->ident.peer_id);
    }
    room_release(srv, c);
}

void room_forget(struct server *srv, struct conn *c) {
    room_release(srv, c);
}

static void room_hold(struct server *srv, struct conn *c) {
    c->state = CONN_HELD;
    c->held_until_ms = clock_mono_ms() + (uint64_t)srv->cfg->grace_s * 1000u;
    lws_dll2_add_tail(&c->held_link, &srv->reg.held);
    log_info("event=hold room=%s peer=%s conn=%s grace_s=%d", c->room, room_peer(c), c->tag,
             srv->cfg->grace_s);
}

void room_on_closed(struct server *srv, struct conn *c) {
    c->wsi = NULL;
    lwsout_cancel(&c->out);
    switch (c->state) {
    case CONN_JOINING:
        if (c->join_sent)
            return; /* room_join_reply finishes it */
        room_release(srv, c);
        return;
    case CONN_JOINED:
        if (c->end == CONN_END_REPLACED)
            room_release(srv, c);
        else if (c->end == CONN_END_HOLD && srv->cfg->grace_s > 0)
            room_hold(srv, c);
        else
            room_leave_now(srv, c);
        return;
    case CONN_OPEN:
    case CONN_CLOSED:
    case CONN_HELD:
        room_release(srv, c);
        return;
    }
}

void room_tick(struct server *srv, uint64_t now_ms) {
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&srv->reg.held)) {
        struct conn *c = lws_container_of(d, struct conn, held_link);
        if (c->held_until_ms > now_ms)
            break;
        log_info("event=grace_expired room=%s peer=%s conn=%s", c->room, room_peer(c), c->tag);
        room_leave_now(srv, c);
    }
    lws_end_foreach_dll_safe(d, d1);
}

/* ---- Messages from members ---- */

/* True if the message may go on; false if the rate limit dropped it. */
static bool room_rate_ok(struct server *srv, struct conn *c) {
    uint64_t now = clock_mono_ms();
    if (ratelimit_take(&c->rl, now))
        return true;
    srv->metrics.rate_limited++;
    if (!c->limited_since_ms || now - c->limit_last_ms > ROOM_RATE_RUN_GAP_MS)
        c->limited_since_ms = now;
    c->limit_last_ms = now;
    if (now - c->limited_since_ms >= (uint64_t)srv->cfg->rate_close_s * 1000u) {
        log_warn("event=flood_close room=%s peer=%s conn=%s", c->room, room_peer(c), c->tag);
        srv->metrics.flood_closes++;
        c->end = CONN_END_LEAVE;
        conn_close(c, 4029, "rate_limited", "message rate exceeded for too long");
    } else if (!c->limit_error_ms || now - c->limit_error_ms >= ROOM_RATE_ERROR_EVERY_MS) {
        c->limit_error_ms = now;
        conn_send_error(c, "rate_limited", "message rate exceeded; message dropped", NULL);
    }
    return false;
}

/* The relayed frame: the client's bytes cut and joined where they can be
 * (no re-serialising), else rebuilt by jansson. */
static struct frame *room_relay_frame(struct conn *c, const struct proto_msg *msg, const char *buf,
                                      size_t len) {
    size_t from_len, n = 0;
    const char *from = conn_peer_json(c, &from_len);
    size_t cap = len + from_len + PROTO_SPLICE_EXTRA;
    struct frame *f = from ? frame_alloc(cap) : NULL;
    if (f)
        n = proto_relay_splice(buf, len, from, from_len, (char *)frame_payload(f), cap);
    if (n > 0) {
        f->len = n;
        return f;
    }
    frame_unref(f);
    return frame_take(proto_relay(msg, c->ident.peer_id, &n), &n);
}

static void room_relay(struct server *srv, struct conn *c, const struct proto_msg *msg,
                       const char *buf, size_t len) {
    struct lroom *room = c->lroom;
    const char *target = msg->target;
    struct conn *t = registry_room_peer(room, target, CONN_IN(CONN_JOINED));
    if (!t && !member_list_find(&room->members, target)) {
        conn_send_error(c, "peer_not_found", "the target is not in the room", target);
        return;
    }
    struct frame *f = room_relay_frame(c, msg, buf, len);
    if (!f)
        return;
    if (t) {
        conn_send(t, f);
        srv->metrics.relayed_local++;
    } else if (!registry_room_peer(room, target, CONN_IN(CONN_HELD))) {
        char channel[KEYS_MAX];
        if (keys_peer_channel(channel, sizeof(channel), c->room, target) < 0 ||
            room_publish(srv, channel, ENVELOPE_SIGNAL, c, target, f) < 0)
            conn_send_error(c, "unavailable", "the cluster store is unreachable", target);
        else
            srv->metrics.relayed_remote++;
    }
    frame_unref(f);
}

/* Sends f to the whole room: local members directly, the others through
 * the room channel. */
static void room_broadcast(struct server *srv, struct conn *c, struct frame *f) {
    if (!f)
        return;
    room_send_local(c->lroom, f);
    if (room_has_remote(c->lroom) &&
        room_publish(srv, c->lroom->channel, ENVELOPE_BROADCAST, c, NULL, f) < 0)
        conn_send_error(c, "unavailable", "the cluster store is unreachable", NULL);
}

static void room_media(struct server *srv, struct conn *c, const struct proto_msg *msg) {
    size_t len;
    member_media_merge(&c->media, msg->media);
    struct frame *f = frame_take(proto_media_state(c->ident.peer_id, c->media, &len), &len);
    room_broadcast(srv, c, f);
    frame_unref(f);
    json_t *media = member_media_json(c->media);
    char *text = media ? json_dumps(media, JSON_COMPACT) : NULL;
    if (text)
        store_media(&srv->store, c->room, c->ident.peer_id, c->tag, text);
    free(text);
    json_decref(media);
}

static void room_chat(struct server *srv, struct conn *c, const struct proto_msg *msg) {
    char ts[CLOCK_ISO8601_LEN];
    size_t len;
    clock_iso8601(clock_real_ms(), ts);
    struct frame *f = frame_take(
        proto_chat(c->ident.peer_id, c->ident.name, msg->content, msg->content_len, ts, &len),
        &len);
    room_broadcast(srv, c, f);
    frame_unref(f);
}

void room_on_message(struct server *srv, struct conn *c, const char *buf, size_t len) {
    struct proto_msg msg;
    char why[160];
    size_t n;
    if (c->state != CONN_JOINED || c->close_code)
        return;
    if (!room_rate_ok(srv, c))
        return;
    int rc = proto_decode(buf, len, c->ident.peer_id, &msg, why, sizeof(why));
    if (rc != PROTO_OK) {
        srv->metrics.bad_messages++;
        conn_send_error(c, proto_status_code(rc), why, NULL);
        return;
    }
    srv->metrics.messages_in[msg.type]++;
    switch (msg.type) {
    case PROTO_OFFER:
    case PROTO_ANSWER:
    case PROTO_ICE_CANDIDATE:
        room_relay(srv, c, &msg, buf, len);
        break;
    case PROTO_MEDIA_STATE:
        room_media(srv, c, &msg);
        break;
    case PROTO_CHAT:
        room_chat(srv, c, &msg);
        break;
    case PROTO_PING: {
        struct frame *f = frame_take(proto_pong(&msg, &n), &n);
        conn_send(c, f);
        frame_unref(f);
        break;
    }
    default:
        break;
    }
    proto_msg_clear(&msg);
}

/* ---- Messages from other nodes ---- */

/* True when a membership event can change something here: a member owed
 * it, or reading the room's member list, a joiner it may be replayed to,
 * or an older connection of the peer to retire. A node hears its own joins
 * and leaves back; when the room holds nobody else here, their member
 * lists are not even parsed. */
static bool room_event_matters(struct lroom *room, const struct envelope *e) {
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&room->conns)) {
        const struct conn *c = lws_container_of(d, struct conn, room_link);
        bool same = !c->ident.peer_id || strcmp(c->ident.peer_id, e->peer) == 0;
        bool same_conn = same && e->conn && strcmp(c->tag, e->conn) == 0;
        if (!same && (c->state == CONN_JOINED || c->state == CONN_HELD) &&
            (c->seen_ver < e->ver || e->ver > room->ver))
            return true;
        if (c->state == CONN_JOINING && !same_conn)
            return true;
        if (same && !same_conn && e->kind == ENVELOPE_JOINED && c->join_ver < e->ver &&
            (c->state == CONN_HELD || c->state == CONN_JOINED))
            return true;
    }
    lws_end_foreach_dll(d);
    return false;
}

static void room_on_membership(struct server *srv, struct lroom *room, struct envelope *e) {
    struct member_list members = {0};
    if (!room_event_matters(room, e))
        return;
    if (member_list_from_flat(&members, (const char *const *)e->members, e->member_lens,
                              e->member_count) < 0)
        return;
    if (e->kind == ENVELOPE_JOINED)
        room_apply_joined(srv, room, e->peer, e->conn ? e->conn : "", e->ver, e->reconnected,
                          &members);
    else
        room_apply_left(room, e->peer, e->ver, &members);
    /* Retiring a held connection may have freed the room: look again. */
    room = registry_room(&srv->reg, e->room, false);
    if (room)
        registry_room_update(room, e->ver, &members);
    member_list_clear(&members);
}

void room_on_bus(const char *channel, const char *buf, size_t len, void *data) {
    struct server *srv = data;
    struct envelope e;
    (void)channel;
    srv->metrics.envelopes_in++;
    if (envelope_decode(buf, len, &e) < 0) {
        srv->metrics.bad_envelopes++;
        return;
    }
    struct lroom *room = registry_room(&srv->reg, e.room, false);
    if (!room) {
        envelope_clear(&e);
        return;
    }
    switch (e.kind) {
    case ENVELOPE_SIGNAL: {
        struct conn *t = registry_room_peer(room, e.target, CONN_IN(CONN_JOINED));
        if (e.ts_us)
            metrics_observe_latency(&srv->metrics, (double)(clock_real_us() - e.ts_us) / 1e6);
        struct frame *f = t ? frame_new(e.body, e.body_len) : NULL;
        if (f)
            conn_send(t, f);
        frame_unref(f);
        break;
    }
    case ENVELOPE_BROADCAST:
        if (strcmp(e.origin, srv->cfg->node_id) != 0) {
            struct frame *f = frame_new(e.body, e.body_len);
            if (f)
                room_send_local(room, f);
            frame_unref(f);
        }
        break;
    case ENVELOPE_JOINED:
    case ENVELOPE_LEFT:
        room_on_membership(srv, room, &e);
        break;
    }
    envelope_clear(&e);
}
