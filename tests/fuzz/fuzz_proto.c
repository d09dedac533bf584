/*
 * Fuzzes the client frame decoder and every builder fed from a decoded
 * message: any byte sequence a client can send must be refused cleanly or
 * relayed, never crash or leak. The spliced relay (the client's bytes cut
 * and joined) is checked against the re-serialised one: it must parse, with
 * no duplicate key, to the same JSON value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_splice(const struct proto_msg *msg, const char *in, size_t size) {
    static const char from[] = "\"self\"";
    size_t cap = size + sizeof(from) + PROTO_SPLICE_EXTRA, len = 0;
    char *out = malloc(cap);
    char *ref = proto_relay(msg, "self", &len);
    size_t n = out ? proto_relay_splice(in, size, from, sizeof(from) - 1, out, cap) : 0;
    if (n > 0 && ref) {
        json_t *a = json_loadb(out, n, JSON_REJECT_DUPLICATES, NULL);
        json_t *b = json_loadb(ref, len, 0, NULL);
        if (!a || !b || !json_equal(a, b))
            abort();
        json_decref(a);
        json_decref(b);
    }
    free(ref);
    free(out);
}

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
        check_splice(&msg, (const char *)data, size);
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
