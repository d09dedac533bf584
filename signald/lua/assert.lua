-- assert: write a member back after the store lost it (a Redis restart
-- without persistence): the node holding the socket is the source of
-- truth. A record of another connection means the member reconnected
-- elsewhere meanwhile; it is left alone.
-- KEYS[1] members hash
-- ARGV[1] peer_id  ARGV[2] record JSON  ARGV[3] connection id
-- Returns 1 when the record is (now) this connection's, 0 when it is another's.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local ok, o = pcall(cjson.decode, cur)
  if ok and type(o) == 'table' and o.conn ~= ARGV[3] then return 0 end
  return 1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
