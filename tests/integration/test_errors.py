"""PROTOCOL.md 6: bad messages get an error frame and the connection stays
open; frames the transport refuses close it with 1003, 1007 or 1009."""

import asyncio
import json
import time

import pytest
from websockets.exceptions import ConnectionClosed

from expect import check_peer_left, plain, relayed, sized_message
from wsclient import RawWs, make_token

MAX = 65536


@pytest.fixture
async def pair(net, room):
    """alice on n1, bob on n2."""
    return await net.join_all(room, ["alice", "bob"])


@pytest.mark.parametrize("frame, code", [
    ("hello", "bad_request"),
    ("{\"type\": \"ping\"", "bad_request"),
    ("[1, 2]", "bad_request"),
    ("\"ping\"", "bad_request"),
    ("42", "bad_request"),
    ("null", "bad_request"),
    ("{}", "bad_request"),
    ("{\"ts\": 1}", "bad_request"),
    ("{\"type\": 5}", "bad_request"),
    ("{\"type\": null}", "bad_request"),
    ("{\"type\": [\"ping\"]}", "bad_request"),
    ("{\"type\": \"bogus\"}", "unknown_type"),
    ("{\"type\": \"pong\"}", "unknown_type"),
    ("{\"type\": \"room_state\"}", "unknown_type"),
    ("{\"type\": \"offer\", \"sdp\": \"x\"}", "bad_request"),
    ("{\"type\": \"answer\", \"target\": 5}", "bad_request"),
    ("{\"type\": \"ice_candidate\", \"target\": null}", "bad_request"),
    ("{\"type\": \"offer\", \"target\": [\"bob\"]}", "bad_request"),
    ("{\"type\": \"chat\"}", "bad_request"),
    ("{\"type\": \"media_state\"}", "bad_request"),
    ("{\"type\": \"media_state\", \"mic\": true}", "bad_request"),
    ("{\"type\": \"media_state\", \"video\": \"yes\"}", "bad_request"),
    ("{\"type\": \"media_state\", \"audio\": 1}", "bad_request"),
    ("{\"type\": \"media_state\", \"video\": true, \"screen_sharing\": null}", "bad_request"),
])
async def test_bad_message_keeps_connection_open(pair, frame, code):
    alice, bob = pair
    await alice.send(frame)
    await alice.recv_error(code)
    await alice.ping()
    await bob.expect_nothing()
    # Still a member: signals reach it.
    await bob.send_json({"type": "offer", "target": "alice", "sdp": "after"})
    assert await alice.recv_json() == {"type": "offer", "from_peer": "bob", "sdp": "after"}


async def test_binary_frame_closes_1003(pair):
    alice, bob = pair
    await alice.send(b'{"type":"ping"}')
    await alice.expect_close(1003, allow_error=True)


async def test_invalid_utf8_closes_1007(pair):
    alice, bob = pair
    await alice.send_invalid_utf8()
    await alice.expect_close(1007, allow_error=True)


REFUSED_FRAMES = {
    "binary": ((0x2, b'{"type":"ping"}'), 1003),
    "invalid-utf8": ((0x1, b'{"type":"ping","ts":"\xc3\x28"}'), 1007),
    "too-large": ((0x1, sized_message({"type": "ping"}, "ts", MAX + 1).encode()), 1009),
}


async def raw_refusal(net, room, case):
    """Sends a refused frame on a bare connection; returns the frames after
    room_state and whether the client's close answer went out before EOF."""
    raw = await RawWs.open(net.port(0), f"/ws/webrtc/{room}/{make_token('alice')}")
    await raw.send_frame(*REFUSED_FRAMES[case][0])
    frames, answered = await raw.frames_until_eof()
    assert frames and frames[0][0] == 0x1 and json.loads(frames[0][1])["type"] == "room_state", frames[:1]
    return frames[1:], answered


@pytest.mark.parametrize("case", sorted(REFUSED_FRAMES))
async def test_exactly_one_close_frame(net, room, case):
    """Error frames at most, then one close frame with the code, then nothing."""
    frames, _ = await raw_refusal(net, room, case)
    closes = [payload for op, payload in frames if op == 0x8]
    assert closes and int.from_bytes(closes[0][:2], "big") == REFUSED_FRAMES[case][1], frames
    assert frames[-1][0] == 0x8 and len(closes) == 1, f"frames after the room_state: {frames}"


@pytest.mark.parametrize("case", sorted(REFUSED_FRAMES))
async def test_server_waits_for_the_clients_close_frame(net, room, case):
    """RFC 6455 5.5.1: the TCP connection stays open until the client has
    answered the close frame. Closed at once, a client still sending gets a
    reset that destroys the unread close frame, and sees 1006."""
    _, answered = await raw_refusal(net, room, case)
    assert answered, "the server closed the TCP connection without waiting for the client's close frame"


async def send_maybe_closed(client, data):
    """Sends; the server may close before the whole message is written."""
    try:
        await client.send(data)
    except Exception:
        pass


def fragments(text, count):
    step = -(-len(text) // count)
    return [text[i:i + step] for i in range(0, len(text), step)]


@pytest.mark.parametrize("how", ["one-frame", "fragments", "deflate"])
async def test_message_over_limit_closes_1009(net, room, how):
    compression = "deflate" if how == "deflate" else None
    client = await net.connect(room, make_token("alice"), node=1, compression=compression)
    await client.recv_type("room_state")
    text = sized_message({"type": "ping"}, "ts", MAX + 1)
    await send_maybe_closed(client, fragments(text, 5) if how == "fragments" else text)
    await client.expect_close(1009, allow_error=True)


@pytest.mark.parametrize("how", ["one-frame", "fragments"])
@pytest.mark.parametrize("size", [MAX - 1, MAX], ids=["limit-1", "limit"])
async def test_message_at_limit_is_relayed(net, room, how, size):
    alice = await net.connect(room, make_token("alice"), node=0, compression=None)
    await alice.recv_type("room_state")
    bob = await net.join(room, "bob", node=1)
    await alice.recv_type("peer_joined")
    text = sized_message({"type": "offer", "target": "bob"}, "sdp", size)
    await alice.send(fragments(text, 4) if how == "fragments" else text)
    assert await bob.recv_type("offer") == relayed(json.loads(text), "alice")
    await alice.ping()


@pytest.mark.cluster(env={"RATE_LIMIT_BURST": "5", "RATE_LIMIT_PER_SECOND": "1"})
async def test_rate_limit(net, room):
    alice = await net.join(room, "alice", node=0)
    for i in range(12):
        await alice.send_json({"type": "ping", "ts": i})
    for i in range(5):
        assert await alice.recv_type("pong") == {"type": "pong", "ts": i}
    await alice.recv_error("rate_limited")
    await alice.expect_nothing()  # the other pings dropped, at most one error a second

    # Going on exceeding the budget for several seconds: 4029.
    deadline = time.monotonic() + 15
    try:
        while time.monotonic() < deadline:
            await alice.send_json({"type": "ping"})
            await asyncio.sleep(0.05)
    except ConnectionClosed:
        pass
    code, messages = await alice.read_until_closed()
    assert code == 4029, f"closed with {code}"
    assert messages and messages[-1].get("code") == "rate_limited", messages[-3:]
    assert {m["type"] for m in messages} <= {"pong", "error"}, messages


@pytest.mark.timeout(120)
@pytest.mark.cluster(env={"RATE_LIMIT_BURST": "1000", "RATE_LIMIT_PER_SECOND": "1000",
                          "RECONNECT_GRACE_SECONDS": "1"})
async def test_slow_reader_is_closed_1008(net, room):
    alice = await net.join(room, "alice", node=0)
    bob = await net.connect(room, make_token("bob"), node=1, compression=None, max_queue=1)
    await bob.recv_type("room_state")
    await alice.recv_type("peer_joined")
    # bob reads about 6 MB/s; alice sends him 24 MB at once: more than the
    # kernel buffers and the server's outgoing queue hold.
    bob_reading = asyncio.create_task(bob.read_until_closed(timeout=60, pause=0.01))
    text = sized_message({"type": "offer", "target": "bob"}, "sdp", 60000)
    for _ in range(400):
        await alice.send(text)
    check_peer_left(await alice.recv_type("peer_left", timeout=30), "bob", plain(["alice"]))
    code, messages = await bob_reading
    assert code == 1008, f"closed with {code} after {len(messages)} messages"
    assert 0 < len(messages) < 400 and all(m["type"] == "offer" for m in messages)
