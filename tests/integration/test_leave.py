"""PROTOCOL.md 7: leaving. A clean close leaves at once; a dropped socket
is held for the grace period; an empty room leaves nothing in Redis."""

import signal
import time

import pytest

from expect import (check_peer_joined, check_peer_left, check_room_state, eventually, members,
                    no_room_keys, peer_info, plain)

PEERS = ["alice", "bob", "carol"]


async def test_clean_close_leaves_at_once(net, room):
    alice, bob, carol = await net.join_all(room, PEERS)
    await bob.close()
    for c in (alice, carol):
        check_peer_left(await c.recv_type("peer_left"), "bob", plain(["alice", "carol"]))
    assert set(members(net.redis, room)) == {"alice", "carol"}

    await alice.close()
    check_peer_left(await carol.recv_type("peer_left"), "alice", plain(["carol"]))
    await carol.expect_nothing()
    await carol.close()
    await no_room_keys(net.redis, room)


async def test_rejoin_after_leaving_goes_last(net, room):
    alice, bob, carol = await net.join_all(room, PEERS)
    await alice.close()
    for c in (bob, carol):
        await c.recv_type("peer_left")
    again = await net.join(room, "alice", node=1)
    check_room_state(again.state, room, "alice", plain(["bob", "carol", "alice"]))
    for c in (bob, carol):
        check_peer_joined(await c.recv_type("peer_joined"), "alice", peer_info("alice"),
                          plain(["bob", "carol", "alice"]), reconnected=False)


async def test_single_member_room_is_deleted(net, room):
    alice = await net.join(room, "alice", node=1)
    await alice.close()
    await no_room_keys(net.redis, room)


@pytest.mark.cluster(env={"RECONNECT_GRACE_SECONDS": "1"})
async def test_dropped_socket_leaves_after_grace(net, room):
    alice, bob = await net.join_all(room, ["alice", "bob"])
    dropped = time.monotonic()
    alice.abort()
    await bob.expect_nothing(0.6)
    check_peer_left(await bob.recv_type("peer_left", timeout=10), "alice", plain(["bob"]))
    elapsed = time.monotonic() - dropped
    assert 0.9 <= elapsed <= 6, f"peer_left {elapsed:.2f}s after the drop, grace is 1s"
    assert set(members(net.redis, room)) == {"bob"}
    # The last member dropping too: the room goes once its grace ends.
    bob.abort()
    await no_room_keys(net.redis, room)


@pytest.mark.parametrize("peers", [PEERS, PEERS[:2]], ids=["node-keeps-a-member", "last-member-of-node"])
async def test_reconnect_within_grace_through_other_node(net, room, peers):
    alice, *others = await net.join_all(room, peers)  # alice on n1
    alice.abort()
    await others[0].expect_nothing(0.5)
    again = await net.join(room, "alice", node=1)
    check_room_state(again.state, room, "alice", plain(peers))
    for c in others:
        check_peer_joined(await c.recv_type("peer_joined"), "alice", peer_info("alice"), plain(peers),
                          reconnected=True)
    for c in others:
        await c.expect_nothing(1.0)


@pytest.mark.cluster(env={"RECONNECT_GRACE_SECONDS": "1"})
async def test_node_shutdown_closes_1001_and_members_leave_after_grace(net, room):
    alice, bob = await net.join_all(room, ["alice", "bob"])
    node = net.cluster.nodes[0]
    node.signal(signal.SIGTERM)
    await alice.expect_close(1001, allow_error=True)
    assert node.wait(20) == 0, f"{node.name} exited with {node.popen.returncode} after SIGTERM"
    check_peer_left(await bob.recv_type("peer_left", timeout=15), "alice", plain(["bob"]))


@pytest.mark.cluster()
async def test_reconnect_after_node_shutdown_is_reconnected(net, room):
    alice, bob = await net.join_all(room, ["alice", "bob"])
    node = net.cluster.nodes[0]
    node.signal(signal.SIGTERM)
    await alice.expect_close(1001, allow_error=True)
    again = await net.join(room, "alice", node=1)
    check_room_state(again.state, room, "alice", plain(["alice", "bob"]))
    check_peer_joined(await bob.recv_type("peer_joined"), "alice", peer_info("alice"),
                      plain(["alice", "bob"]), reconnected=True)
    await bob.expect_nothing(1.0)


@pytest.mark.timeout(90)
@pytest.mark.cluster()
async def test_killed_node_members_leave_within_15s(net, room):
    alice, bob = await net.join_all(room, ["alice", "bob"])
    node = net.cluster.nodes[0]
    node.expected_exit = {-signal.SIGKILL}
    node.signal(signal.SIGKILL)
    node.wait(5)
    check_peer_left(await bob.recv_type("peer_left", timeout=20), "alice", plain(["bob"]))
    await eventually(lambda: set(members(net.redis, room)), ok=lambda s: s == {"bob"}, timeout=5,
                     what="members after the node died")
