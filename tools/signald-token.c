/*
 * signald-token: mints a development access token for signald, signed
 * with JWT_SECRET (HS256), so a newcomer can connect without an identity
 * provider. Usage: signald-token SUB [NAME [ROLE [TTL_SECONDS]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

int main(int argc, char **argv) {
    const char *secret = getenv("JWT_SECRET");
    if (argc < 2 || argc > 5 || !secret || !*secret) {
        fprintf(stderr, "usage: JWT_SECRET=... signald-token SUB [NAME [ROLE [TTL_SECONDS]]]\n");
        return 2;
    }
    long ttl = argc > 4 ? strtol(argv[4], NULL, 10) : 24 * 3600;
    if (ttl <= 0) {
        fprintf(stderr, "signald-token: TTL_SECONDS must be a positive number\n");
        return 2;
    }
    jwt_t *jwt = NULL;
    char *token = NULL;
    time_t now = time(NULL);
    if (jwt_new(&jwt) == 0 && jwt_add_grant(jwt, "sub", argv[1]) == 0 &&
        (argc < 3 || jwt_add_grant(jwt, "name", argv[2]) == 0) &&
        (argc < 4 || jwt_add_grant(jwt, "role", argv[3]) == 0) &&
        jwt_add_grant_int(jwt, "iat", now) == 0 && jwt_add_grant_int(jwt, "exp", now + ttl) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) == 0)
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    if (!token) {
        fprintf(stderr, "signald-token: could not sign the token\n");
        return 1;
    }
    printf("%s\n", token);
    free(token);
    return 0;
}
