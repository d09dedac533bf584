/*
 * Fuzzes token verification. The input is split at its first NUL byte:
 * the part before is the token, so that mutations explore the JWT text,
 * and tokens signed with the fuzz key reach the claim checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char key[] = "fuzz-secret";
    const struct auth_params params = {
        .alg = AUTH_HS256,
        .key = (const unsigned char *)key,
        .key_len = sizeof(key) - 1,
        .leeway_s = 30,
        .require_exp = true,
    };
    char *token = malloc(size + 1);
    if (!token)
        return 0;
    memcpy(token, data, size);
    token[size] = '\0';
    struct auth_identity id;
    const char *why;
    if (auth_verify(&params, token, "room", 1700000000, &id, &why) == AUTH_OK)
        auth_identity_clear(&id);
    free(token);
    return 0;
}
