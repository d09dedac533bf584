"""PROTOCOL.md 3 and 6: max_participants holds across the cluster, also
under a storm of simultaneous joins through different nodes."""

import asyncio

import pytest

from expect import check_room_state, members, plain
from wsclient import make_token

PEERS = [f"p{i}" for i in range(6)]


# Under the server's 5 s wait for a close answer: the refused client's
# answer is read (reading was paused during the join) and ends the socket.
CLOSE_HANDSHAKE_S = 3


async def expect_room_full(client):
    await client.recv_error("room_full")
    await client.expect_close(4008, timeout=CLOSE_HANDSHAKE_S)


async def test_seventh_is_refused(net, room):
    clients = await net.join_all(room, PEERS)
    late = await net.connect(room, make_token("p6"), node=1)
    await expect_room_full(late)
    for c in clients:
        await c.expect_nothing()
    assert set(members(net.redis, room)) == set(PEERS)
    # The room still works after the refusal.
    await clients[0].send_json({"type": "offer", "target": "p5", "sdp": "x"})
    assert await clients[5].recv_json() == {"type": "offer", "from_peer": "p0", "sdp": "x"}


@pytest.mark.cluster(nodes=2, env={"WEBRTC_MAX_PARTICIPANTS": "2"})
async def test_max_participants_setting(net, room):
    a, b = await net.join_all(room, ["a", "b"])
    check_room_state(b.state, room, "b", plain(["a", "b"]), max_participants=2)
    c = await net.connect(room, make_token("c"), node=0)
    await expect_room_full(c)
    assert set(members(net.redis, room)) == {"a", "b"}
    # A place freed by a clean leave can be taken.
    await a.close()
    await b.recv_type("peer_left")
    c = await net.join(room, "c", node=0)
    check_room_state(c.state, room, "c", plain(["b", "c"]), max_participants=2)


async def storm_join(net, room, peer, node):
    """Joins and returns ("joined", client) or ("full", client)."""
    client = await net.connect(room, make_token(peer), node=node, label=f"{peer}@n{node + 1}")
    client.peer = peer
    first = await client.recv_json()
    if first["type"] == "room_state":
        client.state = first
        return "joined", client
    assert first["type"] == "error" and first.get("code") == "room_full", first
    await client.expect_close(4008)
    return "full", client


async def storm(net, room):
    """20 clients join room at once through 3 nodes: exactly 6 get in, and
    each of them ends up told of the other 5, in one order."""
    peers = [f"s{i:02d}" for i in range(20)]
    results = await asyncio.gather(*(storm_join(net, room, p, i % 3) for i, p in enumerate(peers)))
    joined = [c for outcome, c in results if outcome == "joined"]
    refused = [c for outcome, c in results if outcome == "full"]
    assert (len(joined), len(refused)) == (6, 14), [c.peer for c in joined]
    winners = {c.peer for c in joined}
    assert set(members(net.redis, room)) == winners

    orders = set()
    for c in joined:
        latest = c.state
        while (seen := {p["peer_id"] for p in latest["participants"]}) != winners:
            assert seen <= winners, f"{c.label} saw a refused peer: {latest}"
            latest = await c.recv_json()
            assert latest["type"] == "peer_joined" and latest["peer_id"] in winners, latest
        orders.add(tuple(p["peer_id"] for p in latest["participants"]))
    assert len(orders) == 1, orders
    await asyncio.gather(*(c.expect_nothing() for c in joined))


@pytest.mark.cluster(nodes=3)
async def test_join_storm_across_three_nodes(net, room):
    # A race shows only now and then: three storms, in three rooms.
    for round_ in range(3):
        await storm(net, f"{room}-{round_}")


def open_files_limit(pid):
    """The soft and hard "Max open files" of a process."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), (None if hard == "unlimited" else int(hard))
    raise AssertionError("no open files line")


@pytest.mark.cluster(nodes=1, env={"MAX_CONNECTIONS": "100"})
async def test_descriptor_limit_follows_max_connections(net):
    """MAX_CONNECTIONS plus a reserve of 256 (Redis links, listener, files,
    sockets being refused), like Redis' maxclients: lws sizes its
    descriptor tables from this limit."""
    soft, hard = open_files_limit(net.cluster.node(0).pid)
    assert soft == (356 if hard is None else min(356, hard))
