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
-- Prints wrk's result as one JSON line (the bench parses it), after wrk's own text summary.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\nWRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"p50Us":%d,"p90Us":%d,"p99Us":%d,"meanUs":%.1f,"maxUs":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
