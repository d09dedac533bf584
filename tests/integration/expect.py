"""Expected message shapes of PROTOCOL.md, and small polling helpers.

Servers may add fields to any message, so most checks compare the fields
the contract names; where the contract says "the same object" (relays) the
tests compare whole messages.
"""

import asyncio
import json
import re
import time

DEFAULT_STUN = ["stun:stun.l.google.com:19302", "stun:stun1.l.google.com:19302"]
DEFAULT_ICE = [{"urls": DEFAULT_STUN}]
ISO_MS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PARTICIPANT_KEYS = ("peer_id", "name", "role", "media")


def participant(peer, name=None, role=None, media=None):
    """An expected PARTICIPANT entry (name defaults to the peer id)."""
    p = {"peer_id": str(peer), "name": name if name is not None else str(peer)}
    if role is not None:
        p["role"] = role
    if media is not None:
        p["media"] = media
    return p


def plain(peers):
    """Expected participants for peers that joined without name or role."""
    return [participant(p) for p in peers]


def view(participants):
    """The contract's fields of each PARTICIPANT, in order."""
    assert isinstance(participants, list), f"participants is not a list: {participants!r}"
    return [{k: p[k] for k in PARTICIPANT_KEYS if k in p} for p in participants]


def peer_info(name, role=None):
    return {"name": name} if role is None else {"name": name, "role": role}


def check_room_state(msg, room, your_id, participants, max_participants=6, ice=DEFAULT_ICE):
    assert msg["type"] == "room_state", msg
    assert msg.get("room_id") == room, msg
    assert msg.get("your_id") == your_id, msg
    assert view(msg.get("participants")) == participants, msg
    assert msg.get("max_participants") == max_participants, msg
    if ice is not None:
        assert msg.get("ice_servers") == ice, msg


def check_peer_joined(msg, peer, info, participants, reconnected=False):
    assert msg["type"] == "peer_joined", msg
    assert msg.get("peer_id") == peer, msg
    assert msg.get("peer_info") == info, msg
    assert view(msg.get("participants")) == participants, msg
    assert msg.get("reconnected") is reconnected, msg


def check_peer_left(msg, peer, participants):
    assert msg["type"] == "peer_left", msg
    assert msg.get("peer_id") == peer, msg
    assert view(msg.get("participants")) == participants, msg


def check_media_state(msg, peer, media):
    """media: the exact merged record (video/audio/screen_sharing present)."""
    assert msg["type"] == "media_state", msg
    assert msg.get("peer_id") == peer, msg
    got = {k: msg[k] for k in ("video", "audio", "screen_sharing") if k in msg}
    assert got == media, f"media fields {got}, expected {media}: {msg}"


def check_chat(msg, sender, name, content):
    assert msg["type"] == "chat", msg
    assert msg.get("from_peer") == sender, msg
    assert msg.get("from_name") == name, msg
    assert msg.get("content") == content, msg
    ts = msg.get("timestamp")
    assert isinstance(ts, str) and ISO_MS_UTC.match(ts), f"timestamp {ts!r} is not ISO-8601 UTC ms"
    return ts


def relayed(sent, sender):
    """What the target of a signal receives: target removed, from_peer set."""
    out = {k: v for k, v in sent.items() if k != "target"}
    out["from_peer"] = sender
    return out


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def sized_message(obj, field, size):
    """obj with obj[field] padded with 'x' so that its compact JSON is
    exactly size bytes; returns the JSON text."""
    obj = dict(obj, **{field: ""})
    pad = size - len(compact(obj).encode())
    assert pad >= 0
    obj[field] = "x" * pad
    text = compact(obj)
    assert len(text.encode()) == size
    return text


def assert_not_logged(cluster, token):
    """Tokens never appear in logs: neither whole nor their signature."""
    secret_parts = [token] + [p for p in token.split(".")[2:] if len(p) > 8]
    for node in cluster.nodes:
        text = node.log_text()
        for part in secret_parts:
            assert part not in text, f"{node.name} logged a token"


# ---- Redis ----

def room_key(room, suffix):
    return f"signald:{{{room}}}:{suffix}"


def room_keys(r, room):
    """Every key whose name mentions the room (room ids here are unique)."""
    return sorted(r.scan_iter(match=f"signald:*{room}*", count=1000))


def members(r, room):
    """The room's members hash, values parsed."""
    return {peer: json.loads(rec) for peer, rec in r.hgetall(room_key(room, "members")).items()}


async def eventually(get, ok=bool, timeout=10.0, interval=0.05, what="condition"):
    """Polls get() until ok(value); returns the value, or fails showing the
    last one after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout}s (last value: {value!r})")
        await asyncio.sleep(interval)


async def no_room_keys(r, room, timeout=10.0):
    """Waits until the store holds nothing of the room."""
    await eventually(lambda: room_keys(r, room), ok=lambda keys: keys == [], timeout=timeout,
                     what=f"no signald keys left for room {room}")
