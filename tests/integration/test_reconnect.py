"""PROTOCOL.md 4: a participant connecting again replaces its old socket
(error `replaced`, close 4000), keeps its place, and the others see
peer_joined with reconnected true and no peer_left."""

import pytest

from expect import check_peer_joined, check_room_state, members, peer_info, plain

PEERS = ["alice", "bob", "carol"]


async def replace(net, room, old, node, others, expected):
    """old's peer connects again through `node`; checks every side."""
    new = await net.join(room, old.peer, node=node)
    check_room_state(new.state, room, old.peer, expected)
    await old.recv_error("replaced")
    await old.expect_close(4000)
    for c in others:
        check_peer_joined(await c.recv_type("peer_joined"), old.peer, peer_info(old.peer), expected,
                          reconnected=True)
    for c in others + [new]:
        await c.expect_nothing()
    return new


@pytest.mark.parametrize("who, node", [(1, 0), (1, 1), (0, 1)],
                         ids=["middle-to-other-node", "middle-same-node", "first-to-other-node"])
async def test_reconnect_replaces_and_keeps_place(net, room, who, node):
    clients = await net.join_all(room, PEERS)
    old = clients[who]
    others = [c for c in clients if c is not old]
    new = await replace(net, room, old, node, others, plain(PEERS))
    # The new socket is the one that gets signals now.
    await others[0].send_json({"type": "offer", "target": old.peer, "sdp": "again"})
    assert await new.recv_json() == {"type": "offer", "from_peer": others[0].peer, "sdp": "again"}
    assert set(members(net.redis, room)) == set(PEERS)


async def test_reconnect_twice(net, room):
    clients = await net.join_all(room, PEERS)
    new = await replace(net, room, clients[2], 1, clients[:2], plain(PEERS))
    await replace(net, room, new, 0, clients[:2], plain(PEERS))


async def test_reconnect_into_full_room(net, room):
    peers = [f"p{i}" for i in range(6)]
    clients = await net.join_all(room, peers)
    await replace(net, room, clients[3], 0, clients[:3] + clients[4:], plain(peers))
    assert len(members(net.redis, room)) == 6
