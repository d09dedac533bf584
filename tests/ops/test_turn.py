"""TURN REST credentials minted by signald, checked by a real coturn
(use-auth-secret): accepted while valid, refused once expired or when the
secrets differ."""

import asyncio
import json
import time

from opsenv import Client, http_get, make_token, turn_allocate, turn_rest_credential

TURN_SECRET = "ops-turn-shared-secret"


def turn_entry(ice_servers):
    entries = [s for s in ice_servers if isinstance(s.get("urls"), str)
               and s["urls"].startswith("turn:")]
    assert len(entries) == 1, ice_servers
    return entries[0]


def ice_config(node, peer_id):
    status, _, body = http_get(node.url + "/api/webrtc/ice-config",
                               {"Authorization": "Bearer " + make_token(peer_id)})
    assert status == 200, body
    return json.loads(body)


def node_env(turn, ttl, secret=TURN_SECRET):
    return {"WEBRTC_TURN_URL": f"turn:127.0.0.1:{turn.port}?transport=udp",
            "WEBRTC_TURN_SECRET": secret, "WEBRTC_TURN_TTL": str(ttl),
            # Static credentials must be ignored when a secret is set.
            "WEBRTC_TURN_USERNAME": "static-user", "WEBRTC_TURN_CREDENTIAL": "static-pass"}


def test_ice_config_credentials_accepted_by_coturn(cluster):
    turn = cluster.coturn(TURN_SECRET)
    redis = cluster.redis()
    node = cluster.node("turn1", redis, node_env(turn, 600))

    before = int(time.time())
    cfg = ice_config(node, "alice")
    after = int(time.time())
    assert cfg["max_participants"] == 6
    assert {"urls": ["stun:stun.example.org:3478"]} in cfg["ice_servers"]
    entry = turn_entry(cfg["ice_servers"])
    assert entry["urls"] == f"turn:127.0.0.1:{turn.port}?transport=udp"
    expiry, _, peer = entry["username"].partition(":")
    assert peer == "alice"
    assert before + 600 <= int(expiry) <= after + 600
    assert entry["credential"] == turn_rest_credential(TURN_SECRET, entry["username"])

    ok, out = turn_allocate("127.0.0.1", turn.port, entry["username"], entry["credential"])
    assert ok, out
    # Control: the same username with a credential off by one character
    # is refused, so the success above was coturn checking the HMAC.
    bad = ("A" if entry["credential"][0] != "A" else "B") + entry["credential"][1:]
    ok, out = turn_allocate("127.0.0.1", turn.port, entry["username"], bad)
    assert not ok, out


def test_room_state_credentials_accepted_by_coturn(cluster):
    turn = cluster.coturn(TURN_SECRET)
    redis = cluster.redis()
    node = cluster.node("turn1", redis, node_env(turn, 600))

    async def scenario():
        bob = await Client.join(node.ws, "turn-room", "bob")
        await bob.close()
        return bob.room_state["ice_servers"]

    entry = turn_entry(asyncio.run(asyncio.wait_for(scenario(), 15)))
    assert entry["username"].endswith(":bob")
    ok, out = turn_allocate("127.0.0.1", turn.port, entry["username"], entry["credential"])
    assert ok, out


def test_expired_credentials_refused_by_coturn(cluster):
    """signald's wall clock runs 700 s behind (libfaketime), so with a TTL
    of 600 s it mints credentials that expired 100 s ago: well formed,
    correctly signed, and refused by coturn for their expiry alone."""
    turn = cluster.coturn(TURN_SECRET)
    redis = cluster.redis()
    node = cluster.node("turn-late", redis, node_env(turn, 600), faketime="-700s")

    entry = turn_entry(ice_config(node, "carol")["ice_servers"])
    expiry = int(entry["username"].split(":")[0])
    assert expiry < time.time() - 60, entry
    assert entry["credential"] == turn_rest_credential(TURN_SECRET, entry["username"])
    ok, out = turn_allocate("127.0.0.1", turn.port, entry["username"], entry["credential"])
    assert not ok, out


def test_other_secret_refused_by_coturn(cluster):
    turn = cluster.coturn(TURN_SECRET)
    redis = cluster.redis()
    node = cluster.node("turn-other", redis, node_env(turn, 600, secret="not-the-turn-secret"))

    entry = turn_entry(ice_config(node, "dave")["ice_servers"])
    ok, out = turn_allocate("127.0.0.1", turn.port, entry["username"], entry["credential"])
    assert not ok, out
