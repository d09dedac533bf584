/*
 * keys: every Redis key and pub/sub channel name signald uses, built here
 * and nowhere else. Room keys carry the room in a {hash tag}, so all of a
 * room's keys live in one Redis Cluster slot. For redis-cli users:
 *
 *   signald:{ROOM}:members     hash  peer_id -> member record (JSON)
 *   signald:{ROOM}:ver         string  room version (grows on every join/leave)
 *   signald:{ROOM}:room        channel  room-wide broadcasts and membership events
 *   signald:{ROOM}:peer:PEER   channel  signals for one participant
 *   signald:node:NODE          string  a node's lease (TTL), value = start time
 *   signald:node:NODE:members  set  "ROOM PEER" pairs the node holds
 *   signald:node:NODE:dead     string  tombstone: the node was declared dead (1 day)
 *   signald:node:NODE:reaping  string  which node is removing NODE's members (30 s)
 *   signald:node:NODE:hb       channel  the node's heartbeat to itself (proves its
 *                              subscriber link delivers)
 *   signald:nodes              set  ids of the nodes alive or not yet reaped
 *
 * Each builder writes a NUL-terminated name into buf and returns its length,
 * or -1 if it would not fit in cap bytes.
 */
#ifndef SIGNALD_KEYS_H
#define SIGNALD_KEYS_H

#include <stddef.h>

#define KEYS_PREFIX "signald"
#define KEYS_MAX    512 /* enough for a 128-byte room and a 128-byte peer */

/* The node keys are NODE_PREFIX + id + suffix; the dead-node sweep script
 * gets these parts as arguments and builds them the same way. */
#define KEYS_NODE_PREFIX         KEYS_PREFIX ":node:"
#define KEYS_NODE_MEMBERS_SUFFIX ":members"
#define KEYS_NODE_DEAD_SUFFIX    ":dead"
#define KEYS_NODE_REAPING_SUFFIX ":reaping"

int keys_room_members(char *buf, size_t cap, const char *room);
int keys_room_version(char *buf, size_t cap, const char *room);
int keys_room_channel(char *buf, size_t cap, const char *room);
int keys_peer_channel(char *buf, size_t cap, const char *room, const char *peer);
int keys_node_lease(char *buf, size_t cap, const char *node);
int keys_node_members(char *buf, size_t cap, const char *node);
int keys_node_channel(char *buf, size_t cap, const char *node);
int keys_node_dead(char *buf, size_t cap, const char *node);
int keys_node_reaping(char *buf, size_t cap, const char *node);
int keys_nodes(char *buf, size_t cap);

/* True if room is a valid room id: 1 to 128 bytes of A-Z a-z 0-9 _ - . */
int keys_room_valid(const char *room, size_t len);

#endif
