-- Count every response that is not 2xx, per thread, and print one summary line for the tests.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format("SPIN-WRK requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d status=%d p99_us=%d rps=%.1f\n",
    summary.requests, bad, e.connect, e.read, e.write, e.timeout, e.status, latency:percentile(99),
    summary.requests / (summary.duration / 1e6)))
end
