-- join: add or replace one member of a room, atomically with its capacity
-- check, then announce it on the room channel.
-- KEYS[1] members hash   KEYS[2] version key
-- ARGV[1] peer_id  ARGV[2] record JSON (name, role, node, conn)
-- ARGV[3] max participants  ARGV[4] room channel  ARGV[5] origin node
-- ARGV[6] room id
-- Returns {0} when full, else {1, version, reconnected (0/1), old conn,
-- flat members}. A reconnect keeps its seq, joined_at and media, and never
-- counts twice against the capacity.
local peer = ARGV[1]
local ok, rec = pcall(cjson.decode, ARGV[2])
if not ok or type(rec) ~= 'table' then
  return redis.error_reply('ERR bad record')
end

local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local reconnected = 0
local old_conn = ''

-- One read of the room serves the reconnect check, the capacity check, the
-- next seq and the reply.
local flat = redis.call('HGETALL', KEYS[1])
local cur_at = nil
for i = 1, #flat, 2 do
  if flat[i] == peer then cur_at = i + 1 break end
end
local old = nil
if cur_at then
  local decoded
  ok, decoded = pcall(cjson.decode, flat[cur_at])
  if ok and type(decoded) == 'table' then old = decoded end
end

if old then
  reconnected = 1
  old_conn = old.conn or ''
  rec.seq = old.seq
  rec.joined_at = old.joined_at
  rec.media = old.media
else
  if not cur_at and #flat / 2 >= tonumber(ARGV[3]) then
    return {0}
  end
  local max_seq = 0
  for i = 2, #flat, 2 do
    local ok2, o = pcall(cjson.decode, flat[i])
    if ok2 and type(o) == 'table' and tonumber(o.seq) and o.seq > max_seq then
      max_seq = o.seq
    end
  end
  rec.seq = max_seq + 1
  rec.joined_at = now_ms
end

local ver = now_ms
local prev = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if ver <= prev then ver = prev + 1 end
redis.call('SET', KEYS[2], string.format('%d', ver))
local encoded = cjson.encode(rec)
redis.call('HSET', KEYS[1], peer, encoded)
if cur_at then
  flat[cur_at] = encoded
else
  flat[#flat + 1] = peer
  flat[#flat + 1] = encoded
end

redis.call('PUBLISH', ARGV[4], cmsgpack.pack({
  v = 1, k = 3, o = ARGV[5], r = ARGV[6], p = peer, c = rec.conn,
  ver = ver, rc = (reconnected == 1), m = flat}))
return {1, ver, reconnected, old_conn, flat}
