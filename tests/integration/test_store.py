"""What a room looks like in Redis while members are in it (the layout
signald documents for operators): one hash record per member."""

import time

from expect import eventually, members, room_key


async def test_member_records(net, room):
    before_ms = int(time.time() * 1000)
    await net.join_all(room, [("alice", {"name": "Alice", "role": "teacher"}), ("bob", {"name": "Bob"})])
    recs = members(net.redis, room)
    assert set(recs) == {"alice", "bob"}
    alice, bob = recs["alice"], recs["bob"]
    for rec, name, node in ((alice, "Alice", "n1"), (bob, "Bob", "n2")):
        assert rec["name"] == name, rec
        assert rec["node"] == node, rec
        assert isinstance(rec["conn"], str) and rec["conn"], rec
        assert isinstance(rec["seq"], int), rec
        assert isinstance(rec["joined_at"], int) and before_ms - 5000 <= rec["joined_at"] <= time.time() * 1000 + 5000, rec
    assert alice["role"] == "teacher" and "role" not in bob, recs
    assert "media" not in alice and "media" not in bob, recs
    assert alice["seq"] < bob["seq"], recs
    assert alice["conn"] != bob["conn"], recs
    assert net.redis.exists(room_key(room, "ver")), "no version key"


async def test_reconnect_updates_node_and_keeps_order(net, room):
    alice, bob = await net.join_all(room, ["alice", "bob"])
    before = members(net.redis, room)["alice"]
    await net.join(room, "alice", node=1)
    after = members(net.redis, room)["alice"]
    assert after["node"] == "n2" and before["node"] == "n1", (before, after)
    assert after["conn"] != before["conn"], (before, after)
    assert (after["seq"], after["joined_at"]) == (before["seq"], before["joined_at"]), (before, after)


async def test_media_is_stored(trio, net, room):
    alice = trio[0]
    await alice.send_json({"type": "media_state", "video": True, "audio": False})
    for c in trio:
        await c.recv_type("media_state")
    # The record is written after the broadcast: poll.
    await eventually(lambda: members(net.redis, room)["alice"].get("media"),
                     ok=lambda media: media == {"video": True, "audio": False}, timeout=5,
                     what="media in alice's record")
