"""PROTOCOL.md 6-7: while Redis is unreachable, connected members stay and
talk within their node, signals to other nodes get `unavailable`, joins
are refused with 1011; a Redis restarted empty gets every member back."""

import pytest

from expect import check_chat, check_room_state, eventually, members, plain
from wsclient import make_token

PEERS = ["alice", "bob", "carol"]


def unavailable(msg):
    return msg["type"] == "error" and msg.get("code") == "unavailable"


async def recv_skipping_unavailable(client, type_):
    """The next message of type_, allowing `unavailable` errors before it."""
    while True:
        msg = await client.recv_json()
        if not unavailable(msg):
            assert msg["type"] == type_, f"{client.label}: expected {type_}, got {msg}"
            return msg


async def types_besides_unavailable(client):
    return [m["type"] for m in await client.drain() if not unavailable(m)]


async def wait_ready(cluster, code, timeout):
    await eventually(cluster.readiness, ok=lambda codes: codes == [code] * len(codes), timeout=timeout,
                     what=f"/readyz {code} on every node")


@pytest.mark.timeout(90)
@pytest.mark.cluster()
async def test_members_stay_while_redis_is_down(net, room):
    cluster = net.cluster
    alice, bob, carol = await net.join_all(room, PEERS)  # n1, n2, n1
    cluster.stop_redis()
    await wait_ready(cluster, 503, timeout=15)

    # Same-node traffic goes on (a chat that cannot reach the other node
    # may also give its sender an `unavailable` error).
    await alice.send_json({"type": "chat", "content": "still here"})
    for c in (alice, carol):
        check_chat(await recv_skipping_unavailable(c, "chat"), "alice", "alice", "still here")
    assert await types_besides_unavailable(alice) == []
    await alice.send_json({"type": "offer", "target": "carol", "sdp": "local"})
    assert await carol.recv_json() == {"type": "offer", "from_peer": "alice", "sdp": "local"}
    await alice.expect_nothing()

    # A signal to the other node cannot be sent.
    await alice.send_json({"type": "offer", "target": "bob", "sdp": "remote"})
    assert (await alice.recv_error("unavailable")).get("target") == "bob"

    # Joins are refused.
    late = await net.connect(room, make_token("dave"), node=0)
    await late.recv_error("unavailable")
    await late.expect_close(1011)

    # Nobody was dropped.
    for c in (alice, bob, carol):
        await c.ping()
        await c.expect_nothing()


@pytest.mark.timeout(90)
@pytest.mark.cluster()
async def test_redis_restarted_empty_gets_members_back(net, room):
    cluster = net.cluster
    alice, bob, carol = await net.join_all(room, PEERS)  # n1, n2, n1
    cluster.stop_redis()
    await wait_ready(cluster, 503, timeout=15)
    cluster.start_redis()
    await wait_ready(cluster, 200, timeout=30)

    # Signals cross nodes again.
    await eventually(lambda: members(net.redis, room), ok=lambda m: set(m) == set(PEERS), timeout=15,
                     what="members written back to the new Redis")
    await alice.send_json({"type": "offer", "target": "bob", "sdp": "remote again"})
    assert await bob.recv_json() == {"type": "offer", "from_peer": "alice", "sdp": "remote again"}
    for c in (alice, bob, carol):  # no membership change was seen
        kinds = [m["type"] for m in await c.drain()]
        assert not {"peer_left", "peer_joined", "room_state"} & set(kinds), (c.label, kinds)
    dave = await net.join(room, "dave", node=1)
    check_room_state(dave.state, room, "dave", plain(PEERS + ["dave"]))
