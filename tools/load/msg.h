/*
 * msg: the frames the load tool sends, and a scanner for the few fields it
 * reads back. Parsing every delivered frame with a full JSON parser would
 * make the tool costlier than the servers it measures; the daemon writes
 * compact JSON, and a key in quotes followed by ':' cannot occur inside a
 * JSON string (its quotes would be escaped), so looking for "key": is
 * exact.
 */
#ifndef LOAD_MSG_H
#define LOAD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kinds of frames the tool tells apart. */
enum msg_type {
    MSG_OTHER = 0,
    MSG_ROOM_STATE,
    MSG_PEER_JOINED,
    MSG_PEER_LEFT,
    MSG_ICE_CANDIDATE,
    MSG_CHAT,
    MSG_PONG,
    MSG_ERROR,
};

enum msg_type msg_type(const char *buf, size_t len);

/* Writes an ice_candidate-like signal of about size bytes for target into
 * buf, carrying the send time t (ns) and the sender's sequence number n.
 * Returns its length, or 0 if cap is too small. */
size_t msg_relay(char *buf, size_t cap, const char *target, uint64_t t, uint64_t n, size_t size);

/* A chat of about size bytes whose content carries t and n. */
size_t msg_chat(char *buf, size_t cap, uint64_t t, uint64_t n, size_t size);

/* A ping with ts = t. */
size_t msg_ping(char *buf, size_t cap, uint64_t t);

/* The integer value of "key": (key given without quotes); -1 if absent. */
int64_t msg_int(const char *buf, size_t len, const char *key);

/* Points *out at the string value of "key": (not unescaped); returns its
 * length, or -1 if absent or not a string. */
int msg_str(const char *buf, size_t len, const char *key, const char **out);

/* Reads t and n from a chat frame built by msg_chat. Returns 0 or -1. */
int msg_chat_stamp(const char *buf, size_t len, uint64_t *t, uint64_t *n);

/* True if "key": occurs in buf. */
bool msg_has(const char *buf, size_t len, const char *key);

/* How many times "key": occurs (e.g. "peer_id" in a member list). */
unsigned msg_count(const char *buf, size_t len, const char *key);

#endif
