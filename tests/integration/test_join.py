"""PROTOCOL.md 1-3: joining a room, identity from the token, ICE servers."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from expect import (DEFAULT_ICE, assert_not_logged, check_peer_joined, check_room_state, participant, peer_info,
                    plain)
from wsclient import make_token


async def test_first_joiner_gets_room_state(net, room):
    alice = await net.join(room, "alice", name="Alice")
    check_room_state(alice.state, room, "alice", [participant("alice", "Alice")])
    await alice.expect_nothing()


async def test_joins_across_and_within_nodes(net, room):
    alice = await net.join(room, "alice", node=0, name="Alice", role="teacher")
    bob = await net.join(room, "bob", node=1, name="Bob")
    everyone = [participant("alice", "Alice", "teacher"), participant("bob", "Bob")]
    check_room_state(bob.state, room, "bob", everyone)
    check_peer_joined(await alice.recv_type("peer_joined"), "bob", peer_info("Bob"), everyone)

    # carol lands on alice's node: one same-node and one cross-node receiver.
    carol = await net.join(room, "carol", node=0, name="Carol", role="student")
    everyone.append(participant("carol", "Carol", "student"))
    check_room_state(carol.state, room, "carol", everyone)
    for other in (alice, bob):
        check_peer_joined(await other.recv_type("peer_joined"), "carol",
                          peer_info("Carol", "student"), everyone)
    for c in (alice, bob, carol):
        await c.expect_nothing()


@pytest.mark.parametrize("claims, name", [
    ({"name": "N", "full_name": "F", "username": "U"}, "N"),
    ({"full_name": "F", "username": "U"}, "F"),
    ({"username": "U"}, "U"),
    ({}, "dave"),
    ({"name": "Zoë 山田 🎓"}, "Zoë 山田 🎓"),
])
async def test_display_name_fallbacks(net, room, claims, name):
    observer = await net.join(room, "obs", node=0)
    dave = await net.join(room, "dave", node=1, **claims)
    check_room_state(dave.state, room, "dave", [participant("obs"), participant("dave", name)])
    msg = await observer.recv_type("peer_joined")
    check_peer_joined(msg, "dave", peer_info(name), [participant("obs"), participant("dave", name)])


async def test_numeric_sub_is_a_decimal_string(net, room):
    observer = await net.join(room, "obs", node=0)
    client = await net.join(room, 4242, node=1)
    check_room_state(client.state, room, "4242", plain(["obs", "4242"]))
    check_peer_joined(await observer.recv_type("peer_joined"), "4242", peer_info("4242"),
                      plain(["obs", "4242"]))


async def test_peer_id_of_128_bytes(net, room):
    peer = "p" * 128
    client = await net.join(room, peer, node=1)
    check_room_state(client.state, room, peer, plain([peer]))


@pytest.mark.parametrize("via", ["path", "header", "query"])
async def test_token_forms(net, room, via):
    token = make_token("alice")
    client = await net.connect(room, token, node=1, via=via)
    check_room_state(await client.recv_type("room_state"), room, "alice", plain(["alice"]))
    assert_not_logged(net.cluster, token)


@pytest.mark.parametrize("other", ["header", "query"])
async def test_path_token_wins(net, room, other):
    loser = make_token("mallory")
    headers = {"Authorization": f"Bearer {loser}"} if other == "header" else None
    path = f"/ws/webrtc/{room}/{make_token('alice')}" + (f"?token={loser}" if other == "query" else "")
    client = await net.connect(room, path=path, headers=headers)
    check_room_state(await client.recv_type("room_state"), room, "alice", plain(["alice"]))


async def test_path_token_wins_over_bad_header(net, room):
    client = await net.connect(room, path=f"/ws/webrtc/{room}/{make_token('alice')}",
                               headers={"Authorization": "Bearer not-a-token"})
    check_room_state(await client.recv_type("room_state"), room, "alice", plain(["alice"]))


async def test_default_ice_servers(net, room):
    client = await net.join(room, "alice", node=1)
    assert client.state["ice_servers"] == DEFAULT_ICE


def turn_rest_credential(secret, username):
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


@pytest.mark.cluster(node_env=[
    {"WEBRTC_STUN_URLS": json.dumps(["stun:a.test:3478", "stun:b.test:3478"]),
     "WEBRTC_TURN_URL": "turn:turn.test:3478", "WEBRTC_TURN_USERNAME": "tu",
     "WEBRTC_TURN_CREDENTIAL": "tc"},
    {"WEBRTC_STUN_URLS": "stun:c.test:3478,stun:d.test:3478",
     "WEBRTC_TURN_URL": "turn:turn.test:3478?transport=tcp", "WEBRTC_TURN_SECRET": "s3cret",
     "WEBRTC_TURN_TTL": "600", "WEBRTC_TURN_USERNAME": "ignored", "WEBRTC_TURN_CREDENTIAL": "ignored"},
])
async def test_configured_ice_servers(net, room):
    a = await net.join(room, "alice", node=0)
    assert a.state["ice_servers"] == [
        {"urls": ["stun:a.test:3478", "stun:b.test:3478"]},
        {"urls": "turn:turn.test:3478", "username": "tu", "credential": "tc"},
    ]
    b = await net.join(room, "bob", node=1)
    stun, turn = b.state["ice_servers"]
    assert stun == {"urls": ["stun:c.test:3478", "stun:d.test:3478"]}
    assert turn["urls"] == "turn:turn.test:3478?transport=tcp"
    expiry, _, peer = turn["username"].partition(":")
    assert peer == "bob" and abs(int(expiry) - (time.time() + 600)) < 30, turn
    assert turn["credential"] == turn_rest_credential("s3cret", turn["username"]), turn
