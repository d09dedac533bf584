"""A small WebSocket client for the signald protocol, with a timeout on
every receive, and token minting with PyJWT."""

import asyncio
import json
import os
import re
import time

import jwt
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from cluster import JWT_SECRET

# The ASan build is slow: receives get a generous bound. Negative checks
# ("nothing arrives") wait QUIET seconds.
TIMEOUT = float(os.environ.get("ITEST_TIMEOUT", "10"))
QUIET = float(os.environ.get("ITEST_QUIET", "0.3"))

OPCODE_TEXT = 0x1


def make_token(sub, *, secret=JWT_SECRET, alg="HS256", exp_in=3600, **claims):
    """A JWT for sub (None leaves sub out); exp_in=None leaves exp out.
    Extra keyword arguments become claims."""
    payload = {}
    if sub is not None:
        payload["sub"] = sub
    if exp_in is not None:
        payload["exp"] = int(time.time()) + exp_in
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm=alg)


def ws_path(room, token=None):
    return f"/ws/webrtc/{room}" + (f"/{token}" if token is not None else "")


async def open_ws(port, path, headers=None, compression="deflate", **options):
    """Opens a WebSocket like a browser would (permessage-deflate offered
    unless compression=None). options go to websockets.connect."""
    return await websockets.connect(
        f"ws://127.0.0.1:{port}{path}",
        extra_headers=headers,
        compression=compression,
        open_timeout=TIMEOUT,
        close_timeout=5,
        max_size=2**22,
        ping_interval=None,
        **options,
    )


async def handshake_status(port, path):
    """The HTTP status of a WebSocket upgrade request for path (101 when it
    succeeds), read from the raw status line."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    try:
        writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        line = await asyncio.wait_for(reader.readline(), TIMEOUT)
    finally:
        writer.close()
    match = re.match(rb"HTTP/1\.[01] (\d{3})[ \r]", line)
    assert match, f"{path}: not an HTTP status line: {line!r}"
    return int(match.group(1))


def close_code(exc):
    return exc.rcvd.code if exc.rcvd is not None else 1006


class Client:
    """One WebSocket connection. Every receive is bounded; failures name the
    client (label) and what it got."""

    def __init__(self, ws, label):
        self.ws = ws
        self.label = label
        self.peer = None
        self.state = None  # the room_state, once joined

    def __repr__(self):
        return f"<Client {self.label}>"

    async def send_json(self, obj):
        await self.ws.send(json.dumps(obj))

    async def send(self, data):
        """Raw send: str, bytes, or an iterable of fragments."""
        await self.ws.send(data)

    async def send_invalid_utf8(self):
        await self.ws.write_frame(True, OPCODE_TEXT, b"{\"type\":\"ping\",\"ts\":\"\xc3\x28\"}")

    async def _recv(self, timeout, what):
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            pytest.fail(f"{self.label}: no message within {timeout}s (waiting for {what})", pytrace=False)
        except ConnectionClosed as e:
            pytest.fail(f"{self.label}: connection closed with {close_code(e)} "
                        f"{e.rcvd.reason if e.rcvd else ''!r} while waiting for {what}", pytrace=False)
        assert isinstance(raw, str), f"{self.label}: binary frame from the server: {raw[:100]!r}"
        msg = json.loads(raw)
        assert isinstance(msg, dict), f"{self.label}: frame is not a JSON object: {raw[:200]}"
        assert isinstance(msg.get("type"), str), f"{self.label}: frame without string type: {raw[:200]}"
        return msg

    async def recv_json(self, timeout=TIMEOUT):
        return await self._recv(timeout, "any message")

    async def recv_type(self, type_, timeout=TIMEOUT):
        """The next message, which must be of type type_."""
        msg = await self._recv(timeout, type_)
        assert msg["type"] == type_, f"{self.label}: expected {type_}, got {short(msg)}"
        return msg

    async def recv_error(self, code, timeout=TIMEOUT):
        """The next message, which must be an error frame with this code."""
        msg = await self.recv_type("error", timeout)
        assert msg.get("code") == code, f"{self.label}: expected error {code}, got {short(msg)}"
        assert isinstance(msg.get("message"), str), f"{self.label}: error without message: {msg}"
        return msg

    async def expect_close(self, code, timeout=TIMEOUT, allow_error=False):
        """The connection is closed by the server with this code and nothing
        else arrives first (error frames are skipped when allow_error)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                raw = await asyncio.wait_for(self.ws.recv(), max(left, 0.01))
            except asyncio.TimeoutError:
                pytest.fail(f"{self.label}: not closed within {timeout}s (expected {code})", pytrace=False)
            except ConnectionClosed as e:
                got = close_code(e)
                assert got == code, f"{self.label}: closed with {got}, expected {code}"
                return
            if allow_error and isinstance(raw, str) and json.loads(raw).get("type") == "error":
                continue
            pytest.fail(f"{self.label}: expected close {code}, got message {raw[:300]!r}", pytrace=False)

    async def expect_nothing(self, seconds=QUIET):
        """Negative check: no message and no close during `seconds`."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), seconds)
        except asyncio.TimeoutError:
            return
        except ConnectionClosed as e:
            pytest.fail(f"{self.label}: unexpectedly closed with {close_code(e)}", pytrace=False)
        pytest.fail(f"{self.label}: unexpected message {raw[:300]!r}", pytrace=False)

    async def drain(self, quiet=QUIET, timeout=TIMEOUT):
        """Every message that arrives until none comes for `quiet` seconds."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), quiet)
            except asyncio.TimeoutError:
                return got
            got.append(json.loads(raw))
        pytest.fail(f"{self.label}: still receiving after {timeout}s", pytrace=False)

    async def read_until_closed(self, timeout=TIMEOUT):
        """Reads until the server closes; returns (close code, messages)."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), max(deadline - time.monotonic(), 0.01))
            except asyncio.TimeoutError:
                pytest.fail(f"{self.label}: not closed within {timeout}s", pytrace=False)
            except ConnectionClosed as e:
                return close_code(e), got
            got.append(json.loads(raw))

    async def ping(self, ts="check"):
        """Round trip proving the connection is open and in order."""
        await self.send_json({"type": "ping", "ts": ts})
        pong = await self.recv_type("pong")
        assert pong.get("ts") == ts, f"{self.label}: pong {pong} does not echo ts {ts!r}"

    async def close(self, code=1000):
        await self.ws.close(code)

    def abort(self):
        """Drops the TCP connection without a close frame."""
        self.ws.transport.abort()


def short(msg, limit=300):
    text = json.dumps(msg)
    return text if len(text) <= limit else text[:limit] + "..."


class Net:
    """The clients of one test, bound to a cluster. Client k of a helper
    goes to node k (wrapping), so consecutive joins cross nodes."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.clients = []

    @property
    def redis(self):
        return self.cluster.redis

    def port(self, node):
        return self.cluster.node(node).port

    async def connect(self, room, token=None, *, node=0, via="path", path=None, headers=None,
                      compression="deflate", label=None, **options):
        """Opens a connection without reading anything.
        via: "path" (/ws/webrtc/ROOM/TOKEN), "header" (Authorization: Bearer),
        "query" (?token=), or "none" (no token). path overrides the path."""
        headers = dict(headers or {})
        if path is None:
            if via == "path":
                path = ws_path(room, token)
            elif via == "query":
                path = ws_path(room) + f"?token={token}"
            else:
                path = ws_path(room)
            if via == "header":
                headers["Authorization"] = f"Bearer {token}"
        ws = await open_ws(self.port(node), path, headers or None, compression, **options)
        client = Client(ws, label or f"client{len(self.clients)}@n{node % len(self.cluster.nodes) + 1}")
        self.clients.append(client)
        return client

    async def join(self, room, peer, node=0, claims=None, **more_claims):
        """Connects peer (token with these claims) and reads its room_state.
        Claims that clash with parameter names go in `claims`."""
        token = make_token(peer, **dict(claims or {}, **more_claims))
        client = await self.connect(room, token, node=node, label=f"{peer}@n{node % len(self.cluster.nodes) + 1}")
        client.peer = str(peer)
        client.state = await client.recv_type("room_state")
        assert client.state.get("your_id") == str(peer), f"{client.label}: {short(client.state)}"
        return client

    async def join_all(self, room, peers, first_node=0):
        """Joins peers (ids, or (id, claims) pairs) one after the other on
        alternating nodes; every earlier member reads the peer_joined of
        each later one."""
        clients = []
        for i, spec in enumerate(peers):
            peer, claims = spec if isinstance(spec, tuple) else (spec, {})
            client = await self.join(room, peer, node=first_node + i, **claims)
            for earlier in clients:
                msg = await earlier.recv_type("peer_joined")
                assert msg.get("peer_id") == peer, f"{earlier.label}: {short(msg)}"
            clients.append(client)
        return clients

    async def close_all(self):
        """Closes every client cleanly (1000), dropping those that hang."""
        async def close(client):
            try:
                await asyncio.wait_for(client.ws.close(), 6)
            except Exception:
                client.abort()
        await asyncio.gather(*(close(c) for c in self.clients))
