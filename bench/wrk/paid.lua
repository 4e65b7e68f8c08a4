-- A paid path: every request carries the next pre-generated credential from the file named by the
-- first script argument. When they run out the thread stops, so no credential is sent twice and
-- wrk's rate covers only paid requests.
local credentials = {}
local next_index = 1
local path = '/'

init = function(args)
  path = args[2]
  for line in io.lines(args[1]) do
    if line ~= '' then credentials[#credentials + 1] = line end
  end
end

request = function()
  local credential = credentials[next_index]
  if credential == nil then
    -- out of credentials: stop; the few requests already on their way ask for health, not a replay
    wrk.thread:stop()
    return wrk.format('GET', '/__gateway/healthz')
  end
  next_index = next_index + 1
  return wrk.format('GET', path, { ['Authorization'] = credential })
end
-- done(): the same JSON line as every other run
dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'report.lua')
