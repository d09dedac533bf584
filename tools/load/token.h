/*
 * token: mints the HS256 access tokens the load tool's clients present,
 * as tools/signald-token does for a developer.
 */
#ifndef LOAD_TOKEN_H
#define LOAD_TOKEN_H

/* Returns a token for sub valid ttl_s seconds, signed with secret; the
 * caller frees it. NULL on failure. */
char *token_mint(const char *secret, const char *sub, long ttl_s);

#endif
