-- reap_claim: find nodes whose lease has expired and claim their clean-up,
-- so that exactly one survivor removes each dead node's members. The claim
-- expires, so a claimer that dies too leaves the work to the next sweep.
-- KEYS[1] node set
-- ARGV[1] this node  ARGV[2] claim ms  ARGV[3] tombstone seconds
-- ARGV[4] node key prefix  ARGV[5] members suffix  ARGV[6] tombstone suffix
-- ARGV[7] claim suffix
-- Returns {{node, {"ROOM PEER", ...}}, ...} for the nodes claimed.
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if id ~= ARGV[1] then
    local base = ARGV[4] .. id
    if redis.call('EXISTS', base) == 0 and
       redis.call('SET', base .. ARGV[7], ARGV[1], 'NX', 'PX', ARGV[2]) then
      redis.call('SET', base .. ARGV[6], '1', 'EX', ARGV[3])
      out[#out + 1] = {id, redis.call('SMEMBERS', base .. ARGV[5])}
    end
  end
end
return out
