"""PROTOCOL.md 6-7: while Redis is unreachable, connected members stay and
talk within their node, signals to other nodes get `unavailable`, joins
are refused with 1011; a Redis restarted empty gets every member back."""

import pytest

from expect import check_chat, check_room_state, eventually, members, plain
from wsclient import make_token

PEERS = ["alice", "bob", "carol"]


async def recv_skipping_unavailable(client, type_):
    """The next message of type_, allowing `unavailable` errors before it."""
    while True:
        msg = await client.recv_json()
        if msg["type"] == "error" and msg.get("code") == "unavailable":
            continue
        assert msg["type"] == type_, f"{client.label}: expected {type_}, got {msg}"
        return msg


@pytest.mark.timeout(90)
@pytest.mark.cluster()
async def test_redis_outage_and_recovery(net, room):
    cluster = net.cluster
    alice, bob, carol = await net.join_all(room, PEERS)  # n1, n2, n1
    cluster.stop_redis()
    await eventually(cluster.readiness, ok=lambda codes: codes == [503, 503], timeout=15,
                     what="/readyz 503 on every node while Redis is down")

    # Same-node traffic goes on.
    await alice.send_json({"type": "chat", "content": "still here"})
    for c in (alice, carol):
        check_chat(await recv_skipping_unavailable(c, "chat"), "alice", "alice", "still here")
    await alice.send_json({"type": "offer", "target": "carol", "sdp": "local"})
    assert await recv_skipping_unavailable(carol, "offer") == {"type": "offer", "from_peer": "alice", "sdp": "local"}

    # A signal to the other node cannot be sent.
    await alice.send_json({"type": "offer", "target": "bob", "sdp": "remote"})
    await alice.recv_error("unavailable")

    # Joins are refused.
    late = await net.connect(room, make_token("dave"), node=0)
    await late.recv_error("unavailable")
    await late.expect_close(1011)

    # Nobody was dropped.
    for c in (alice, bob, carol):
        await c.ping()

    cluster.start_redis()
    await eventually(cluster.readiness, ok=lambda codes: codes == [200, 200], timeout=30,
                     what="/readyz 200 on every node after Redis came back")
    await eventually(lambda: set(members(net.redis, room)), ok=lambda s: s == set(PEERS), timeout=15,
                     what="members written back to the new Redis")
    for c in (alice, bob, carol):  # no membership change was seen
        kinds = [m["type"] for m in await c.drain()]
        assert not {"peer_left", "peer_joined", "room_state"} & set(kinds), (c.label, kinds)

    await alice.send_json({"type": "offer", "target": "bob", "sdp": "remote again"})
    assert await bob.recv_json() == {"type": "offer", "from_peer": "alice", "sdp": "remote again"}
    dave = await net.join(room, "dave", node=1)
    check_room_state(dave.state, room, "dave", plain(PEERS + ["dave"]))
