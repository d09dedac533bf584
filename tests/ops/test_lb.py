"""End to end through haproxy (scripts/haproxy-cfg's configuration): clients
spread round-robin over two nodes relay signals to each other; a node taken
down with SIGTERM drains, haproxy stops sending it new clients, and its
clients come back through the balancer on the other node."""

import asyncio
import json
import signal
import threading
import time

import pytest
import websockets

from opsenv import Client, http_get, make_token, wait_until

GRACE = 5  # RECONNECT_GRACE_SECONDS: a draining node lives about GRACE + 2 s


def member_nodes(redis, room):
    """{peer_id: node} from the room's member records in Redis."""
    return {peer: json.loads(rec)["node"]
            for peer, rec in redis.client.hgetall(f"signald:{{{room}}}:members").items()}


async def join_with_retry(base_ws_url, room, peer_id, deadline_s=10):
    """Joins like a browser after a 1001 close: retries with a short backoff
    until it gets room_state, within deadline_s seconds. Returns the client
    and the number of attempts it took."""
    deadline = time.monotonic() + deadline_s
    attempts = 0
    while True:
        attempts += 1
        try:
            return await Client.join(base_ws_url, room, peer_id, timeout=3), attempts
        except (websockets.ConnectionClosed, websockets.InvalidStatusCode, OSError,
                RuntimeError, asyncio.TimeoutError):
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.2)


def test_round_robin_relay_and_drain(cluster):
    redis = cluster.redis()
    env = {"RECONNECT_GRACE_SECONDS": str(GRACE), "WEBRTC_MAX_PARTICIPANTS": "12"}
    n1 = cluster.node("node1", redis, env)
    n2 = cluster.node("node2", redis, env)
    lb = cluster.haproxy([n1, n2])
    room = "lb-room"

    # The balancer answers the nodes' HTTP endpoints too.
    assert http_get(lb.url + "/healthz")[0] == 200
    assert http_get(lb.url + "/readyz")[0] == 200

    async def scenario():
        clients = {}
        for peer in ("p1", "p2", "p3", "p4"):
            clients[peer] = await Client.join(lb.ws, room, peer)
        placed = member_nodes(redis, room)
        assert sorted(placed) == ["p1", "p2", "p3", "p4"]
        # Round-robin without stickiness: consecutive joins alternate.
        order = [placed[p] for p in ("p1", "p2", "p3", "p4")]
        assert sorted(order) == ["node1", "node1", "node2", "node2"], order
        assert order[0] != order[1] and order[0] == order[2] and order[1] == order[3], order

        # p1 offers to a peer on the other node; the answer comes back.
        a = clients["p1"]
        other = next(p for p in ("p2", "p3", "p4") if placed[p] != placed["p1"])
        b = clients[other]
        sdp = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\n"
        await a.send({"type": "offer", "target": other, "sdp": {"type": "offer", "sdp": sdp}})
        offer = await b.recv_type("offer")
        assert offer == {"type": "offer", "from_peer": "p1",
                         "sdp": {"type": "offer", "sdp": sdp}}, offer
        await b.send({"type": "answer", "target": "p1", "sdp": {"type": "answer", "sdp": sdp}})
        answer = await a.recv_type("answer")
        assert answer["from_peer"] == other

        # node1 goes down (SIGTERM): it turns unready at once and closes its
        # clients with 1001.
        on_n1 = sorted(p for p in clients if placed[p] == "node1")
        on_n2 = sorted(p for p in clients if placed[p] == "node2")
        t0 = time.monotonic()
        n1.signal(signal.SIGTERM)
        await asyncio.to_thread(wait_until, lambda: http_get(n1.url + "/readyz", timeout=1)[0]
                                == 503, 1, 0.02, "node1 /readyz 503")
        codes = [await clients[p].wait_closed(5) for p in on_n1]
        assert codes == [1001] * len(on_n1), codes

        # One of them comes back through the balancer, like a browser would,
        # and lands on node2 as a reconnection. The other stays away: node1
        # holds it for the grace period, so node1 keeps running (draining).
        back_peer, gone_peer = on_n1
        back, _ = await join_with_retry(lb.ws, room, back_peer, deadline_s=GRACE - 1)
        for q in on_n2:
            msg = await clients[q].recv_type("peer_joined")
            assert (msg["peer_id"], msg["reconnected"]) == (back_peer, True), msg
        assert member_nodes(redis, room)[back_peer] == "node2"

        # haproxy takes node1 out on its failing /readyz while node1 is
        # still up (checks every 1 s, fall 2); from then on every new client
        # lands on node2.
        await asyncio.to_thread(wait_until, lambda: lb.states().get("node1") == "DOWN", 4, 0.05,
                                "haproxy to mark node1 down")
        marked_down_s = time.monotonic() - t0
        assert n1.alive()
        assert lb.stats()["node1"]["check_status"] == "L7STS"  # a 503, not a refused socket
        newcomers = {}
        for peer in ("n1", "n2", "n3", "n4"):
            newcomers[peer] = await Client.join(lb.ws, room, peer)
        placed = member_nodes(redis, room)
        assert {placed[p] for p in newcomers} == {"node2"}, placed
        assert placed[gone_peer] == "node1"  # still held there
        assert n1.alive()

        # The one that stayed away leaves when its grace period ends.
        msg = await clients[on_n2[0]].recv_type("peer_left", timeout=GRACE + 3)
        assert msg["peer_id"] == gone_peer, msg

        for c in [clients[q] for q in on_n2] + [back] + list(newcomers.values()):
            await c.close()
        return marked_down_s

    marked_down_s = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert marked_down_s < 4

    # node1 finishes its drain and exits cleanly on its own.
    rc = n1.wait(5)
    assert rc == 0, f"node1 exit status {rc}"
    assert n2.alive()
    # The room is gone once everybody left.
    wait_until(lambda: not redis.client.exists(f"signald:{{{room}}}:members"), 5,
               what="the room to be deleted")


def test_readyz_stays_ready_while_clients_join(cluster):
    """A healthy node with Redis up is ready the whole time clients join
    and leave: readiness must not flap with every subscription."""
    redis = cluster.redis()
    node = cluster.node("steady", redis, {"WEBRTC_MAX_PARTICIPANTS": "20"})
    failures = []
    polls = 0
    done = threading.Event()

    def poll():
        nonlocal polls
        while not done.is_set():
            status, _, body = http_get(node.url + "/readyz", timeout=2)
            polls += 1
            if status != 200:
                failures.append((status, body.strip()))

    poller = threading.Thread(target=poll)
    poller.start()

    async def scenario():
        for rnd in range(3):
            members = [await Client.join(node.ws, f"steady-{rnd}", f"s{i}") for i in range(10)]
            await asyncio.sleep(0.2)
            for c in members:
                await c.close()
            await asyncio.sleep(0.2)

    try:
        asyncio.run(asyncio.wait_for(scenario(), 30))
    finally:
        done.set()
        poller.join(5)
    assert polls > 100
    assert failures == [], f"{len(failures)} of {polls} /readyz polls failed: {failures[:3]}"


def test_balancer_skips_a_stopped_node(cluster):
    """A node that is gone (connection refused) costs new clients nothing:
    haproxy retries elsewhere even before its checks mark the node down."""
    redis = cluster.redis()
    n1 = cluster.node("node1", redis)
    n2 = cluster.node("node2", redis)
    lb = cluster.haproxy([n1, n2])

    n2.expect_clean_exit = False
    n2.signal(signal.SIGKILL)
    assert n2.wait(5) is not None

    async def scenario():
        clients = [await Client.join(lb.ws, "lb-kill", f"k{i}") for i in range(4)]
        for c in clients:
            await c.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))
    token = make_token("probe")
    assert http_get(lb.url + "/api/webrtc/ice-config",
                    {"Authorization": "Bearer " + token})[0] == 200
