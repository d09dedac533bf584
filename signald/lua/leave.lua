-- leave: remove one member if the connection that leaves is still the one
-- on record (a late leave of a replaced connection never removes its
-- successor), delete the room when it empties, announce it otherwise.
-- KEYS[1] members hash   KEYS[2] version key
-- ARGV[1] peer_id  ARGV[2] connection id  ARGV[3] room channel
-- ARGV[4] origin node  ARGV[5] room id
-- ARGV[6] the record field ARGV[2] is compared with: "conn" for a leaving
-- connection, "node" when a dead node's members are removed
-- Returns {0} when nothing was removed, {1, 0} when the room is gone,
-- else {1, version, flat members}.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {0} end
local ok, o = pcall(cjson.decode, cur)
if ok and type(o) == 'table' and o[ARGV[6]] ~= ARGV[2] then return {0} end

redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {1, 0}
end

local t = redis.call('TIME')
local ver = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prev = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if ver <= prev then ver = prev + 1 end
redis.call('SET', KEYS[2], string.format('%d', ver))

local flat = redis.call('HGETALL', KEYS[1])
redis.call('PUBLISH', ARGV[3], cmsgpack.pack({
  v = 1, k = 4, o = ARGV[4], r = ARGV[5], p = ARGV[1], c = ARGV[2],
  ver = ver, m = flat}))
return {1, ver, flat}
