-- media: store a member's merged media state in its record, if the
-- connection that sent it is still the one on record.
-- KEYS[1] members hash
-- ARGV[1] peer_id  ARGV[2] connection id  ARGV[3] media JSON object
-- Returns 1 when stored, 0 otherwise.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local ok, o = pcall(cjson.decode, cur)
if not ok or type(o) ~= 'table' or o.conn ~= ARGV[2] then return 0 end
local ok2, media = pcall(cjson.decode, ARGV[3])
if not ok2 or type(media) ~= 'table' then return 0 end
o.media = media
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(o))
return 1
