/*
 * token: see token.h.
 */
#include "token.h"

#include <string.h>
#include <time.h>

#include <jwt.h>

char *token_mint(const char *secret, const char *sub, long ttl_s) {
    jwt_t *jwt = NULL;
    char *token = NULL;
    time_t now = time(NULL);
    if (jwt_new(&jwt) == 0 && jwt_add_grant(jwt, "sub", sub) == 0 &&
        jwt_add_grant_int(jwt, "iat", now) == 0 &&
        jwt_add_grant_int(jwt, "exp", now + ttl_s) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) == 0)
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}
