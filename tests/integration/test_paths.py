"""PROTOCOL.md 1: the upgrade path. Invalid room characters: HTTP 400;
any other shape: HTTP 404; 1 to 128 characters of A-Z a-z 0-9 _ - . join."""

import asyncio
import urllib.request
import uuid

import pytest
from websockets.exceptions import InvalidStatusCode

from expect import assert_not_logged, check_room_state, plain
from wsclient import handshake_status, make_token, open_ws

TOKEN = make_token("alice")
R = "it-" + uuid.uuid4().hex  # a valid room, used where the path has another fault

BAD_ROOMS = {
    "dollar": "bad$room",
    "129-chars": "x" * 129,
    "percent-hex": "bad%41room",
    "percent-space": "bad%20room",
    "colon": "bad:room",
    "tilde": "bad~room",
    "at": "bad@room",
    "comma": "bad,room",
    "plus": "bad+room",
}

OTHER_SHAPES = {
    "empty-room": f"/ws/webrtc//{TOKEN}",
    "empty-room-no-token": "/ws/webrtc/",
    "no-room": "/ws/webrtc",
    "other-ws": "/ws/other",
    "ws": "/ws",
    "root": "/",
    "extra-segment": f"/ws/webrtc/{R}/{TOKEN}/extra",
    "empty-segment-before-token": f"/ws/webrtc/{R}//{TOKEN}",
    "dot-segment-before-token": f"/ws/webrtc/{R}/./{TOKEN}",
    "prefix-lookalike": f"/ws/webrtcx/{R}/{TOKEN}",
    "nested": f"/api/ws/webrtc/{R}/{TOKEN}",
}


@pytest.mark.parametrize("case", sorted(BAD_ROOMS))
@pytest.mark.parametrize("with_token", [True, False], ids=["path-token", "no-path-token"])
async def test_invalid_room_is_400(net, case, with_token):
    path = f"/ws/webrtc/{BAD_ROOMS[case]}" + (f"/{TOKEN}" if with_token else "")
    assert await handshake_status(net.port(0), path) == 400


@pytest.mark.parametrize("case", sorted(OTHER_SHAPES))
async def test_other_shapes_are_404(net, case):
    assert await handshake_status(net.port(1), OTHER_SHAPES[case]) == 404


async def test_refused_paths_do_not_log_tokens(net):
    for path in [f"/ws/webrtc/{room}/{TOKEN}" for room in BAD_ROOMS.values()] + list(OTHER_SHAPES.values()):
        await handshake_status(net.port(0), path)
    assert_not_logged(net.cluster, TOKEN)


@pytest.mark.parametrize("path, status", [(f"/ws/webrtc/bad$room/{TOKEN}", 400), ("/ws/other", 404)],
                         ids=["400", "404"])
async def test_refusal_is_readable_by_websocket_clients(net, path, status):
    """The refusal is an HTTP/1.1 response that a WebSocket client library
    reports as a status code (not as an unreadable answer)."""
    with pytest.raises(InvalidStatusCode) as refused:
        ws = await open_ws(net.port(0), path)
        await ws.close()
    assert refused.value.status_code == status


@pytest.mark.parametrize("length", [1, 128])
async def test_room_id_lengths_accepted(net, room, length):
    room_id = ("Az09_-." + room)[:length].ljust(length, "z")
    client = await net.join(room_id, "alice", node=length)
    check_room_state(client.state, room_id, "alice", plain(["alice"]))


async def test_room_id_is_case_sensitive(net, room):
    upper = await net.join(room.upper(), "alice", node=0)
    lower = await net.join(room, "bob", node=1)
    check_room_state(lower.state, room, "bob", plain(["bob"]))
    await upper.expect_nothing()


def refused_paths(node):
    with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("signald_refused_paths_total "):
                return float(line.split()[1])
    raise AssertionError("signald_refused_paths_total missing from /metrics")


async def test_refused_paths_are_counted(net):
    node = net.cluster.node(0)
    before = refused_paths(node)
    assert await handshake_status(node.port, f"/ws/webrtc/bad$room/{TOKEN}") == 400
    assert await handshake_status(node.port, f"/ws/webrtc//{TOKEN}") == 404
    assert refused_paths(node) - before == 2


@pytest.mark.parametrize("path, status", [
    (f"/ws/webrtc/bad$room/{TOKEN}", 400),
    ("/ws/other", 404),
    (f"/ws/webrtc/{R}/{TOKEN}", 101),
], ids=["400", "404", "101"])
@pytest.mark.parametrize("split_at", [2, 20], ids=["in-method", "in-path"])
async def test_request_line_in_pieces(net, path, status, split_at):
    """Most requests are judged the moment they are accepted; one whose
    request line comes in pieces waits for the rest and is judged alike."""
    assert await handshake_status(net.port(0), path, split_at=split_at) == status


async def test_silent_connection_does_not_hold_others(net):
    reader, writer = await asyncio.open_connection("127.0.0.1", net.port(0))
    try:
        assert await handshake_status(net.port(0), f"/ws/webrtc/{R}/{TOKEN}") == 101
        assert await handshake_status(net.port(0), "/ws/other") == 404
        # Speaking at last, it is answered like any other.
        writer.write(b"GET /ws/other HTTP/1.1\r\nHost: x\r\n\r\n")
        line = await asyncio.wait_for(reader.readline(), 10)
        assert line.startswith(b"HTTP/1.1 404"), line
    finally:
        writer.close()
