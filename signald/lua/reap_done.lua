-- reap_done: forget a dead node once its members are removed, unless it
-- came back meanwhile (its lease exists again).
-- KEYS[1] node set  KEYS[2] its lease  KEYS[3] its members  KEYS[4] its claim
-- ARGV[1] node id
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[3])
end
redis.call('DEL', KEYS[4])
return 1
