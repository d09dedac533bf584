"""LiveKit tokens from signald, verified with LiveKit's own server SDK
(livekit-server-sdk's TokenVerifier) using the same API key and secret."""

import asyncio
import json
import os
import subprocess
import time

import pytest
import websockets

from opsenv import Client, http_get, make_token

HERE = os.path.dirname(os.path.abspath(__file__))
API_KEY = "APIops7Rk2"
API_SECRET = "ops-livekit-secret-0123456789abcdefghijklmnop"
LIVEKIT_URL = "wss://livekit.example.org"


def verify(token, key=API_KEY, secret=API_SECRET, reference=None):
    if not os.path.isdir(os.path.join(HERE, "node_modules", "livekit-server-sdk")):
        pytest.fail("tests/ops/node_modules is missing: run `npm ci` in tests/ops")
    req = {"key": key, "secret": secret, "token": token}
    if reference:
        req["reference"] = reference
    res = subprocess.run(["node", os.path.join(HERE, "livekit-verify.mjs")], cwd=HERE,
                         input=json.dumps(req), capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def livekit_env(**extra):
    env = {"LIVEKIT_URL": LIVEKIT_URL, "LIVEKIT_API_KEY": API_KEY,
           "LIVEKIT_API_SECRET": API_SECRET, "LIVEKIT_TOKEN_TTL": "900"}
    env.update(extra)
    return env


def test_token_verifies_with_livekit_sdk(cluster):
    redis = cluster.redis()
    node = cluster.node("lk1", redis, livekit_env())

    before = int(time.time())
    status, headers, body = http_get(
        node.url + "/api/livekit/token?room=class-7b",
        {"Authorization": "Bearer " + make_token("alice", "Alice Liddell")})
    after = int(time.time())
    assert status == 200, body
    assert headers.get("content-type", "").startswith("application/json")
    answer = json.loads(body)
    assert answer["url"] == LIVEKIT_URL
    assert answer["room"] == "class-7b"
    assert answer["identity"] == "alice"

    out = verify(answer["token"], reference={"identity": "alice", "name": "Alice Liddell",
                                             "room": "class-7b"})
    assert out["ok"], out
    claims = out["claims"]
    assert claims["iss"] == API_KEY
    assert claims["sub"] == "alice"
    assert claims["name"] == "Alice Liddell"
    assert claims["video"] == {"room": "class-7b", "roomJoin": True, "canPublish": True,
                               "canSubscribe": True}
    assert before <= claims["nbf"] <= after
    assert claims["exp"] - claims["nbf"] == 900
    # The grant has the shape the SDK itself gives the same permissions.
    ref = out["reference"]
    assert ref["video"] == claims["video"]
    assert (ref["sub"], ref["name"]) == (claims["sub"], claims["name"])

    # The SDK refuses it under another secret or another API key.
    assert not verify(answer["token"], secret=API_SECRET + "x")["ok"]
    assert not verify(answer["token"], key="APIsomeoneelse")["ok"]


def test_token_endpoint_refusals(cluster):
    redis = cluster.redis()
    node = cluster.node("lk1", redis, livekit_env())
    url = node.url + "/api/livekit/token"

    status, _, body = http_get(url + "?room=r1")
    assert status == 401, body
    status, _, body = http_get(url + "?room=r1", {"Authorization": "Bearer not-a-jwt"})
    assert status == 401, body
    status, _, body = http_get(url, {"Authorization": "Bearer " + make_token("alice")})
    assert status == 400, body
    status, _, body = http_get(url + "?room=bad%20room",
                               {"Authorization": "Bearer " + make_token("alice")})
    assert status == 400, body
    # A token restricted to other rooms gets no LiveKit token for this one.
    status, _, body = http_get(url + "?room=r1",
                               {"Authorization": "Bearer " + make_token("alice", room=["r2"])})
    assert status == 403, body
    status, _, body = http_get(url + "?room=r2",
                               {"Authorization": "Bearer " + make_token("alice", room=["r2"])})
    assert status == 200, body
    assert verify(json.loads(body)["token"])["ok"]


def test_room_full_offers_a_livekit_token(cluster):
    """PROTOCOL.md 6: the room_full error carries a LiveKit token for the
    same room, so that a class outgrowing the mesh can move to the SFU."""
    redis = cluster.redis()
    node = cluster.node("lk1", redis, livekit_env(WEBRTC_MAX_PARTICIPANTS="1"))

    async def scenario():
        alice = await Client.join(node.ws, "full-room", "alice")
        token = make_token("bob", "Bob Builder")
        ws = await asyncio.wait_for(websockets.connect(
            f"{node.ws}/ws/webrtc/full-room/{token}", open_timeout=5, close_timeout=2), 5)
        err = json.loads(await asyncio.wait_for(ws.recv(), 5))
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed:
            pass
        await alice.close()
        return err, ws.close_code

    err, code = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert code == 4008
    assert err["type"] == "error" and err["code"] == "room_full", err
    assert err["livekit"]["url"] == LIVEKIT_URL
    out = verify(err["livekit"]["token"])
    assert out["ok"], out
    assert out["claims"]["sub"] == "bob"
    assert out["claims"]["name"] == "Bob Builder"
    assert out["claims"]["video"]["room"] == "full-room"
    assert out["claims"]["video"]["roomJoin"] is True
