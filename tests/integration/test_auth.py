"""PROTOCOL.md 1-2 and 6: tokens. A refused token completes the upgrade,
gets an error frame, then the close code (4001 unauthorized, 4003
forbidden); nobody in the room notices."""

import time

import jwt
import pytest

from expect import assert_not_logged, check_room_state, members, plain
from wsclient import make_token


def now():
    return int(time.time())


# name -> (token factory, how it is sent)
UNAUTHORIZED = {
    "missing": (lambda: None, "none"),
    "missing-empty-bearer": (lambda: "", "header"),
    "malformed": (lambda: "not-a-jwt", "path"),
    "malformed-3-parts": (lambda: "a.b.c", "path"),
    "malformed-header-form": (lambda: "garbage", "header"),
    "bad-signature": (lambda: make_token("eve", secret="another-secret-of-some-length!!"), "path"),
    "bad-signature-query": (lambda: make_token("eve", secret="another-secret-of-some-length!!"), "query"),
    "expired": (lambda: make_token("eve", exp_in=-120), "path"),
    "nbf-future": (lambda: make_token("eve", nbf=now() + 300), "path"),
    "alg-none": (lambda: jwt.encode({"sub": "eve", "exp": now() + 3600}, None, algorithm="none"), "path"),
    "alg-hs384": (lambda: make_token("eve", alg="HS384"), "path"),
    "alg-hs512": (lambda: make_token("eve", alg="HS512"), "path"),
    "missing-sub": (lambda: make_token(None, name="Eve"), "path"),
    "empty-sub": (lambda: make_token(""), "path"),
    "sub-not-string-or-int": (lambda: make_token(["eve"]), "path"),
    "sub-129-bytes": (lambda: make_token("e" * 129), "path"),
    "missing-exp": (lambda: make_token("eve", exp_in=None), "path"),
}


@pytest.fixture
async def observer(net, room):
    """bob, already in the room, on n1; refused clients go to n2."""
    return await net.join(room, "bob", node=0)


async def expect_refused(net, room, observer, client, code, close_code):
    await client.recv_error(code)
    await client.expect_close(close_code)
    await observer.expect_nothing()
    assert set(members(net.redis, room)) == {"bob"}


@pytest.mark.parametrize("case", sorted(UNAUTHORIZED))
async def test_unauthorized(net, room, observer, case):
    token_of, via = UNAUTHORIZED[case]
    token = token_of()
    client = await net.connect(room, token, node=1, via=via)
    await expect_refused(net, room, observer, client, "unauthorized", 4001)
    if token and len(token) > 8:
        assert_not_logged(net.cluster, token)


WITHIN_LEEWAY = {
    "expired-10s-ago": lambda: {"exp_in": -10},
    "nbf-in-10s": lambda: {"nbf": now() + 10},
}


@pytest.mark.parametrize("case", sorted(WITHIN_LEEWAY))
async def test_within_leeway_is_accepted(net, room, observer, case):
    alice = await net.join(room, "alice", node=1, **WITHIN_LEEWAY[case]())
    check_room_state(alice.state, room, "alice", plain(["bob", "alice"]))


@pytest.mark.parametrize("claim", ["other-room", ["other-room", "third-room"], []],
                         ids=["string", "list", "empty-list"])
async def test_room_claim_mismatch_is_forbidden(net, room, observer, claim):
    client = await net.connect(room, make_token("eve", room=claim), node=1)
    await expect_refused(net, room, observer, client, "forbidden", 4003)


@pytest.mark.parametrize("claim", ["string", "list"])
async def test_room_claim_match(net, room, observer, claim):
    value = room if claim == "string" else ["other-room", room]
    alice = await net.join(room, "alice", node=1, claims={"room": value})
    check_room_state(alice.state, room, "alice", plain(["bob", "alice"]))
