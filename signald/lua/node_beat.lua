-- node_beat: renew this node's lease and its place in the node set. If
-- the node was declared dead meanwhile (a long pause, a partition), say so
-- once: the node then drops its sockets instead of keeping members the
-- others have already removed.
-- KEYS[1] lease  KEYS[2] tombstone  KEYS[3] node set
-- ARGV[1] node id  ARGV[2] lease ms  ARGV[3] lease value
-- Returns 1, or 0 when the node had been declared dead.
local alive = 1
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('DEL', KEYS[2])
  alive = 0
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
return alive
