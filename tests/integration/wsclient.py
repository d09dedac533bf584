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


async def handshake_status(port, path, split_at=None, pause=0.3):
    """The HTTP status of a WebSocket upgrade request for path (101 when it
    succeeds), read from the raw status line. split_at: the request goes
    out in two writes, cut after that many bytes, pause seconds apart."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    try:
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        if split_at is not None:
            writer.write(request[:split_at])
            await writer.drain()
            await asyncio.sleep(pause)
            request = request[split_at:]
        writer.write(request)
        line = await asyncio.wait_for(reader.readline(), TIMEOUT)
        match = re.match(rb"HTTP/1\.[01] (\d{3})[ \r]", line)
        assert match, f"{path}: not an HTTP status line: {line!r}"
        if match.group(1) == b"101":
            # Leave cleanly (masked close frame, 1000) so that the server
            # does not hold a member for the reconnection grace.
            writer.write(b"\x88\x82\x00\x00\x00\x00\x03\xe8")
            await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
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
        self.state = None
        self.history = []  # every message received, for failure reports  # the room_state, once joined

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
            pytest.fail(f"{self.label}: no message within {timeout}s (waiting for {what}); "
                        f"received before: {self.recent()}", pytrace=False)
        except ConnectionClosed as e:
            pytest.fail(f"{self.label}: connection closed with {close_code(e)} "
                        f"{e.rcvd.reason if e.rcvd else ''!r} while waiting for {what}", pytrace=False)
        assert isinstance(raw, str), f"{self.label}: binary frame from the server: {raw[:100]!r}"
        msg = json.loads(raw)
        assert isinstance(msg, dict), f"{self.label}: frame is not a JSON object: {raw[:200]}"
        assert isinstance(msg.get("type"), str), f"{self.label}: frame without string type: {raw[:200]}"
        self.history.append(msg)
        return msg

    def recent(self, count=4):
        return [short(m, 400) for m in self.history[-count:]]

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

    async def read_until_closed(self, timeout=TIMEOUT, pause=0.0):
        """Reads (pausing `pause` seconds after each message) until the
        server closes; returns (close code, messages)."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            if got and pause:
                await asyncio.sleep(pause)
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


class RawWs:
    """A bare WebSocket client on a TCP stream, for what a library would
    not send (invalid frames) or would hide (every frame the server sends,
    a second close frame included)."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.buffer = b""

    @classmethod
    async def open(cls, port, path):
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
        writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert head.startswith(b"HTTP/1.1 101"), head[:100]
        return cls(reader, writer)

    async def send_frame(self, opcode, payload, fin=True):
        """A masked frame (mask 0, so the payload goes as it is)."""
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        self.writer.write(head + b"\0\0\0\0" + payload)
        await self.writer.drain()

    def _parse(self):
        """One complete frame from the buffer as (opcode, payload), or None."""
        b = self.buffer
        if len(b) < 2:
            return None
        n, at = b[1] & 0x7F, 2
        if n == 126:
            n, at = int.from_bytes(b[2:4], "big"), 4
        elif n == 127:
            n, at = int.from_bytes(b[2:10], "big"), 10
        if len(b) < at + n:
            return None
        self.buffer = b[at + n:]
        return b[0] & 0x0F, b[at:at + n]

    async def frames_until_eof(self, quiet=1.0, timeout=TIMEOUT):
        """Every frame the server sends until it closes the TCP connection.
        After the first close frame and `quiet` seconds of silence, answers
        it (as RFC 6455 5.5.1 wants the server to wait for) and reads on
        until EOF. Returns (frames, whether the answer went before EOF)."""
        frames, answered = [], False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self._parse()
            if frame:
                frames.append(frame)
                continue
            closing = any(op == 0x8 for op, _ in frames)
            try:
                data = await asyncio.wait_for(self.reader.read(65536), quiet if closing else timeout)
            except asyncio.TimeoutError:
                if closing and not answered:
                    code = next(p for op, p in frames if op == 0x8)[:2]
                    await self.send_frame(0x8, code)
                    answered = True
                continue
            except ConnectionResetError:
                break
            if not data:
                break
            self.buffer += data
        self.writer.close()
        return frames, answered
