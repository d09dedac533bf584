"""/metrics: valid Prometheus text 0.0.4 (a strict parser of our own and
prometheus_client's), and counters that follow the traffic."""

import asyncio
import json

import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

import promtext
from opsenv import Client, http_get, make_token, wait_until

EXPECTED_FAMILIES = {
    "signald_connections": "gauge",
    "signald_rooms": "gauge",
    "signald_members": "gauge",
    "signald_members_held": "gauge",
    "signald_ready": "gauge",
    "signald_redis_up": "gauge",
    "signald_connections_total": "counter",
    "signald_refused_paths_total": "counter",
    "signald_redis_reconnects_total": "counter",
    "signald_joins_total": "counter",
    "signald_leaves_total": "counter",
    "signald_messages_in_total": "counter",
    "signald_messages_out_total": "counter",
    "signald_bad_messages_total": "counter",
    "signald_rate_limited_total": "counter",
    "signald_relayed_total": "counter",
    "signald_relay_latency_seconds": "histogram",
    "signald_envelopes_in_total": "counter",
    "signald_published_total": "counter",
    "signald_redis_commands_total": "counter",
}


def scrape(node):
    status, headers, body = http_get(node.url + "/metrics")
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
    families, samples = promtext.parse(body)
    # The reference parser reads the same text into the same series.
    ref = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            ref[(s.name, tuple(sorted(s.labels.items())))] = s.value
    assert ref == samples
    return families, samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def delta(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def test_strict_parser_rejects_malformed_text():
    good = ("# HELP a_total Things.\n# TYPE a_total counter\na_total{k=\"v\"} 3\n"
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
            "h_sum 1.5\nh_count 2\n")
    promtext.parse(good)
    bad = [
        good[:-1],  # no final newline
        good.replace('a_total{k="v"} 3', 'a_total{k="v"} three'),
        good.replace('a_total{k="v"} 3', 'a_total{k="v} 3'),
        good.replace('a_total{k="v"} 3', 'a_total{k="v"} -3'),  # negative counter
        good + 'a_total{k="v"} 4\n',  # duplicate series, not grouped
        good.replace("h_count 2", "h_count 3"),  # count != +Inf bucket
        good.replace('h_bucket{le="1"} 1', 'h_bucket{le="1"} 5'),  # not cumulative
        good.replace("# TYPE a_total counter", "# TYPE a_total countr"),
        good + "# TYPE a_total gauge\n",  # TYPE after samples
        good.replace('{k="v"}', '{k="v\\x"}'),  # bad escape
    ]
    for text in bad:
        with pytest.raises(ValueError):
            promtext.parse(text)


def test_metrics_format_and_counters_follow_traffic(cluster):
    redis = cluster.redis()
    n1 = cluster.node("m1", redis)
    n2 = cluster.node("m2", redis)

    families, before1 = scrape(n1)
    _, before2 = scrape(n2)
    for name, mtype in EXPECTED_FAMILIES.items():
        assert families.get(name, {}).get("type") == mtype, name
        assert families[name]["help"], name
    assert value(before1, "signald_ready") == 1
    assert value(before1, "signald_redis_up") == 1
    assert value(before1, "signald_members") == 0

    room = "metrics-room"

    async def traffic():
        alice = await Client.join(n1.ws, room, "alice")
        bob = await Client.join(n2.ws, room, "bob")
        await alice.recv_type("peer_joined")
        for i in range(3):
            await alice.send({"type": "offer", "target": "bob", "sdp": f"offer {i}"})
        for i in range(2):
            await alice.send({"type": "ice_candidate", "target": "bob",
                              "candidate": {"candidate": f"c{i}"}})
        for _ in range(3):
            await bob.recv_type("offer")
        for _ in range(2):
            await bob.recv_type("ice_candidate")
        for i in range(2):
            await bob.send({"type": "answer", "target": "alice", "sdp": f"answer {i}"})
        for _ in range(2):
            await alice.recv_type("answer")
        await alice.send({"type": "chat", "content": "hello"})
        await alice.recv_type("chat")
        await bob.recv_type("chat")
        await alice.send({"type": "ping", "ts": 1})
        await alice.recv_type("pong")
        await alice.send({"type": "media_state", "video": True})
        await alice.recv_type("media_state")
        await alice.ws.send("not json")
        await alice.recv_type("error")
        return alice, bob

    async def scenario():
        alice, bob = await traffic()
        # Scraped while both are connected (within this event loop).
        during = scrape(n1)[1], scrape(n2)[1]
        # A refused token counts as an unauthorized join.
        bad = make_token("eve", secret="wrong")
        async with websockets.connect(f"{n1.ws}/ws/webrtc/{room}/{bad}", open_timeout=5,
                                      close_timeout=2) as eve:
            err = json.loads(await asyncio.wait_for(eve.recv(), 5))
            assert err["code"] == "unauthorized", err
        await alice.close()
        await bob.close()
        return during

    during1, during2 = asyncio.run(asyncio.wait_for(scenario(), 30))
    for samples in (during1, during2):
        assert value(samples, "signald_connections") == 1
        assert value(samples, "signald_members") == 1
        assert value(samples, "signald_rooms") == 1
        assert value(samples, "signald_members_held") == 0

    # Node 1 (alice): one join, what she sent, relayed to a remote peer.
    assert delta(before1, during1, "signald_connections_total") == 1
    assert delta(before1, during1, "signald_joins_total", result="ok") == 1
    assert delta(before1, during1, "signald_messages_in_total", type="offer") == 3
    assert delta(before1, during1, "signald_messages_in_total", type="ice_candidate") == 2
    assert delta(before1, during1, "signald_messages_in_total", type="chat") == 1
    assert delta(before1, during1, "signald_messages_in_total", type="ping") == 1
    assert delta(before1, during1, "signald_messages_in_total", type="media_state") == 1
    assert delta(before1, during1, "signald_bad_messages_total") == 1
    assert delta(before1, during1, "signald_relayed_total", path="remote") == 5
    assert delta(before1, during1, "signald_relayed_total", path="local") == 0
    # room_state, peer_joined, 2 answers, chat, pong, media_state, error
    assert delta(before1, during1, "signald_messages_out_total") >= 8
    assert delta(before1, during1, "signald_published_total") >= 5
    # Node 2 (bob): his answers went out remote; alice's signals came in
    # through Redis and were timed.
    assert delta(before2, during2, "signald_joins_total", result="ok") == 1
    assert delta(before2, during2, "signald_messages_in_total", type="answer") == 2
    assert delta(before2, during2, "signald_relayed_total", path="remote") == 2
    # room_state, 3 offers, 2 candidates, chat, media_state
    assert delta(before2, during2, "signald_messages_out_total") >= 8
    assert delta(before2, during2, "signald_envelopes_in_total") >= 5
    assert delta(before2, during2, "signald_relay_latency_seconds_count") == 5
    assert delta(before1, during1, "signald_relay_latency_seconds_count") == 2

    def left(node):
        samples = scrape(node)[1]
        return value(samples, "signald_members") == 0 and samples

    after1 = wait_until(lambda: left(n1), 5, what="m1 members back to 0")
    after2 = wait_until(lambda: left(n2), 5, what="m2 members back to 0")
    assert delta(before1, after1, "signald_joins_total", result="unauthorized") == 1
    assert delta(before1, after1, "signald_leaves_total") == 1
    assert delta(before2, after2, "signald_leaves_total") == 1
    assert value(after1, "signald_connections") == 0
    assert value(after1, "signald_rooms") == 0
    # Counters never go down.
    for key, v in before1.items():
        if key[0].endswith("_total") and key in after1:
            assert after1[key] >= v, key
