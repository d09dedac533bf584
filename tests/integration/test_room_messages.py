"""PROTOCOL.md 5: media_state, chat and ping."""

from datetime import datetime, timezone

import pytest

from expect import check_chat, check_media_state, check_peer_joined, check_room_state, participant, peer_info
from wsclient import make_token


async def test_media_state_merges_and_reaches_everyone(net, room, trio):
    alice, bob, carol = trio
    steps = [
        ({"video": True}, {"video": True}),
        ({"audio": False}, {"video": True, "audio": False}),
        ({"video": False, "screen_sharing": True}, {"video": False, "audio": False, "screen_sharing": True}),
    ]
    for fields, merged in steps:
        await alice.send_json(dict(fields, type="media_state"))
        for c in trio:
            check_media_state(await c.recv_type("media_state"), "alice", merged)
    # bob's record is separate from alice's.
    await bob.send_json({"type": "media_state", "audio": True})
    for c in trio:
        check_media_state(await c.recv_type("media_state"), "bob", {"audio": True})

    # A later joiner (on the other node) sees the merged records.
    dave = await net.join(room, "dave", node=1)
    expected = [participant("alice", "Alice", media=merged), participant("bob", media={"audio": True}),
                participant("carol"), participant("dave")]
    check_room_state(dave.state, room, "dave", expected)
    for c in trio:
        check_peer_joined(await c.recv_type("peer_joined"), "dave", peer_info("dave"), expected)


async def test_chat_reaches_everyone_with_one_timestamp(trio):
    alice, bob, carol = trio
    await alice.send_json({"type": "chat", "content": "hello ✓", "extra": 1})
    stamps = {check_chat(await c.recv_type("chat"), "alice", "Alice", "hello ✓") for c in trio}
    assert len(stamps) == 1, f"receivers saw different timestamps: {stamps}"
    when = datetime.strptime(stamps.pop(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 60, when


@pytest.mark.parametrize("content", [
    "a" * 4096,
    "€" * 1365 + "a",  # 4096 bytes, 1366 characters
], ids=["4096-ascii", "4096-bytes-multibyte"])
async def test_chat_of_4096_bytes_is_accepted(trio, content):
    alice, bob, carol = trio
    assert len(content.encode()) == 4096
    await bob.send_json({"type": "chat", "content": content})
    for c in trio:
        check_chat(await c.recv_type("chat"), "bob", "bob", content)


@pytest.mark.parametrize("content", [
    "",
    "a" * 4097,
    "é" * 2048 + "a",  # 4097 bytes, 2049 characters
    123,
    None,
    ["hi"],
], ids=["empty", "4097-ascii", "4097-bytes-multibyte", "number", "null", "list"])
async def test_bad_chat_content_is_bad_request(trio, content):
    alice, bob, carol = trio
    await alice.send_json({"type": "chat", "content": content})
    await alice.recv_error("bad_request")
    await alice.ping()
    for c in (bob, carol):
        await c.expect_nothing()


@pytest.mark.parametrize("ts", [1700000000123, 0, -1.5, "t-1", None, True, [1, {"a": 2}], {"k": "v"}],
                         ids=["int", "zero", "float", "string", "null", "bool", "list", "object"])
async def test_ping_echoes_ts(net, room, ts):
    client = await net.join(room, "alice", node=1)
    await client.send_json({"type": "ping", "ts": ts})
    pong = await client.recv_type("pong")
    assert "ts" in pong and pong["ts"] == ts and type(pong["ts"]) is type(ts), pong


async def test_ping_without_ts_has_no_ts(net, room):
    client = await net.join(room, "alice", node=0)
    await client.send_json({"type": "ping"})
    pong = await client.recv_type("pong")
    assert "ts" not in pong, pong
    await client.expect_nothing()


async def test_messages_sent_before_room_state(net, room):
    """What a client sends before its room_state (the join takes a Redis
    round trip) is handled right after it, in order: nothing is lost or
    answered early."""
    a = await net.join(room, "a", node=0)
    b = await net.connect(room, make_token("b"), node=1, label="b@n2")
    for i in range(5):
        await b.send_json({"type": "ping", "ts": i})
    big = "v=0\r\n" + "a=x\r\n" * 5000
    await b.send_json({"type": "offer", "target": "a", "sdp": big})
    await b.send_json({"type": "ice_candidate", "target": "a", "candidate": "early"})
    state = await b.recv_type("room_state")
    assert state["your_id"] == "b"
    assert [(await b.recv_type("pong"))["ts"] for _ in range(5)] == list(range(5))
    await a.recv_type("peer_joined")
    assert await a.recv_json() == {"type": "offer", "from_peer": "b", "sdp": big}
    assert await a.recv_json() == {"type": "ice_candidate", "from_peer": "b", "candidate": "early"}
    # And it reads on as usual.
    await b.send_json({"type": "ping", "ts": 99})
    assert (await b.recv_type("pong"))["ts"] == 99
