"""PROTOCOL.md 1: the upgrade path. Invalid room characters: HTTP 400;
any other shape: HTTP 404; 1 to 128 characters of A-Z a-z 0-9 _ - . join."""

import pytest

from expect import check_room_state, plain
from wsclient import handshake_status, make_token

TOKEN = make_token("alice")


@pytest.mark.parametrize("room_id", [
    "bad$room",
    "x" * 129,
    "bad%41room",
    "bad%20room",
    "bad:room",
    "bad~room",
    "bad@room",
    "bad,room",
    "bad+room",
])
@pytest.mark.parametrize("with_token", [True, False], ids=["path-token", "no-path-token"])
async def test_invalid_room_is_400(net, room_id, with_token):
    path = f"/ws/webrtc/{room_id}" + (f"/{TOKEN}" if with_token else "")
    assert await handshake_status(net.port(0), path) == 400


@pytest.mark.parametrize("path", [
    f"/ws/webrtc//{TOKEN}",
    "/ws/webrtc/",
    "/ws/webrtc",
    "/ws/other",
    "/ws",
    "/",
    f"/ws/webrtc/r/{TOKEN}/extra",
    f"/ws/webrtcx/r/{TOKEN}",
    f"/api/ws/webrtc/r/{TOKEN}",
])
async def test_other_shapes_are_404(net, path):
    assert await handshake_status(net.port(1), path) == 404


@pytest.mark.parametrize("length", [1, 128])
async def test_room_id_lengths_accepted(net, room, length):
    room_id = ("Az09_-." + room)[:length].ljust(length, "z")
    client = await net.join(room_id, "alice", node=length)
    check_room_state(client.state, room_id, "alice", plain(["alice"]))
    await client.close()


async def test_room_id_is_case_sensitive(net, room):
    upper = await net.join(room.upper(), "alice", node=0)
    lower = await net.join(room, "bob", node=1)
    check_room_state(lower.state, room, "bob", plain(["bob"]))
    await upper.expect_nothing()
