/*
 * Fuzzes the node-to-node envelope decoder and the member records an
 * envelope carries: whatever arrives on a Redis channel must be refused
 * cleanly or decoded, never crash, leak or allocate beyond its size.
 */
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "member.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct envelope e;
    if (envelope_decode((const char *)data, size, &e) < 0)
        return 0;
    struct member_list list = {0};
    if (member_list_from_flat(&list, (const char *const *)e.members, e.member_lens,
                              e.member_count) == 0)
        member_list_clear(&list);
    envelope_clear(&e);
    return 0;
}
