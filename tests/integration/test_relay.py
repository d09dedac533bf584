"""PROTOCOL.md 5: offer/answer/ice_candidate relayed to the target only,
in order, across nodes and within one node."""

import pytest

from expect import check_chat, check_media_state, relayed

SIGNALS = {
    "offer": {"type": "offer", "sdp": {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}},
    "answer": {"type": "answer", "sdp": {"type": "answer", "sdp": "v=0\r\n"}, "extra": [1, None, "x"]},
    "ice_candidate": {"type": "ice_candidate",
                      "candidate": {"candidate": "candidate:1 1 UDP 2122260223 10.0.0.1 54400 typ host",
                                    "sdpMid": "0", "sdpMLineIndex": 0}},
}


@pytest.mark.parametrize("kind", sorted(SIGNALS))
@pytest.mark.parametrize("target", ["bob", "carol"], ids=["cross-node", "same-node"])
async def test_signal_reaches_target_only(trio, kind, target):
    alice, bob, carol = trio
    sent = dict(SIGNALS[kind], target=target, from_peer="mallory")
    await alice.send_json(sent)
    receiver, bystander = (bob, carol) if target == "bob" else (carol, bob)
    assert await receiver.recv_json() == relayed(sent, "alice")
    for c in (alice, bystander):
        await c.expect_nothing()


async def test_large_sdp_passes_unchanged(trio):
    alice, bob, carol = trio
    sdp = "".join(f"a=candidate:{i} 1 udp 2122260223 192.0.2.{i % 250} {40000 + i} typ host\r\n"
                  for i in range(400))[:20480]
    sent = {"type": "offer", "target": "alice", "sdp": {"type": "offer", "sdp": sdp}}
    await bob.send_json(sent)
    assert await alice.recv_json() == relayed(sent, "bob")
    await carol.expect_nothing()


@pytest.mark.parametrize("sender, target", [(1, 0), (2, 0)], ids=["cross-node", "same-node"])
async def test_200_back_to_back_arrive_in_order(trio, sender, target):
    src, dst = trio[sender], trio[target]
    for i in range(200):
        await src.send_json({"type": "ice_candidate", "target": dst.peer, "candidate": {"n": i}})
    for i in range(200):
        msg = await dst.recv_json()
        assert msg == {"type": "ice_candidate", "from_peer": src.peer, "candidate": {"n": i}}, i
    await src.expect_nothing()


@pytest.mark.parametrize("target", [1, 2], ids=["cross-node", "same-node"])
async def test_mixed_types_keep_order(trio, target):
    alice, dst = trio[0], trio[target]
    other = trio[3 - target]
    script = [
        {"type": "offer", "target": dst.peer, "sdp": "o1"},
        {"type": "chat", "content": "c1"},
        {"type": "ice_candidate", "target": dst.peer, "candidate": "i1"},
        {"type": "media_state", "video": True},
        {"type": "ice_candidate", "target": dst.peer, "candidate": "i2"},
        {"type": "chat", "content": "c2"},
        {"type": "answer", "target": dst.peer, "sdp": "a1"},
        {"type": "ping", "ts": 7},
    ]
    for m in script:
        await alice.send_json(m)

    async def check_room_traffic(client, signals):
        for m in script:
            if m["type"] == "chat":
                check_chat(await client.recv_type("chat"), "alice", "Alice", m["content"])
            elif m["type"] == "media_state":
                check_media_state(await client.recv_type("media_state"), "alice", {"video": True})
            elif m["type"] == "ping":
                if client is alice:
                    assert await alice.recv_type("pong") == {"type": "pong", "ts": 7}
            elif signals:
                assert await client.recv_json() == relayed(m, "alice")
        await client.expect_nothing()

    await check_room_traffic(dst, signals=True)
    await check_room_traffic(other, signals=False)
    await check_room_traffic(alice, signals=False)


async def test_unknown_target_is_peer_not_found(trio):
    alice, bob, carol = trio
    await alice.send_json({"type": "offer", "target": "ghost", "sdp": "x"})
    err = await alice.recv_error("peer_not_found")
    assert err.get("target") == "ghost", err
    await alice.ping()
    for c in (bob, carol):
        await c.expect_nothing()


async def test_peer_in_another_room_is_not_found(net, room):
    alice = await net.join(room, "alice", node=0)
    other = await net.join(room + "-other", "bob", node=1)
    await alice.send_json({"type": "answer", "target": "bob", "sdp": "x"})
    err = await alice.recv_error("peer_not_found")
    assert err.get("target") == "bob", err
    await other.expect_nothing()


async def test_target_self_is_bad_request(trio):
    alice, bob, carol = trio
    await alice.send_json({"type": "ice_candidate", "target": "alice", "candidate": "x"})
    await alice.recv_error("bad_request")
    await alice.ping()
    for c in (bob, carol):
        await c.expect_nothing()
