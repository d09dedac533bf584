/*
 * Fuzzes the client frame decoder and every builder fed from a decoded
 * message: any byte sequence a client can send must be refused cleanly or
 * relayed, never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct proto_msg msg;
    char why[128];
    size_t len;
    if (proto_decode((const char *)data, size, "self", &msg, why, sizeof(why)) != PROTO_OK)
        return 0;
    switch (msg.type) {
    case PROTO_OFFER:
    case PROTO_ANSWER:
    case PROTO_ICE_CANDIDATE:
        free(proto_relay(&msg, "self", &len));
        break;
    case PROTO_MEDIA_STATE:
        free(proto_media_state("self", msg.media, &len));
        break;
    case PROTO_CHAT:
        free(proto_chat("self", "Self", msg.content, msg.content_len, "2026-01-01T00:00:00.000Z",
                        &len));
        break;
    case PROTO_PING:
        free(proto_pong(&msg, &len));
        break;
    default:
        break;
    }
    proto_msg_clear(&msg);
    return 0;
}
