-- A fixed offered load, wrk2-style: each connection waits SPIN_WRK_DELAY_MS after every answer before
-- its next request (so connections x 1000 / (delay + latency) requests/s), and one summary line with
-- the median and the 99th percentile (no per-response callback: it would slow wrk down).
local delay_ms = tonumber(os.getenv("SPIN_WRK_DELAY_MS") or "0")

function delay()
  return delay_ms
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("SPIN-WRK requests=%d connect=%d read=%d write=%d timeout=%d status=%d p50_us=%d p99_us=%d rps=%.1f\n",
    summary.requests, e.connect, e.read, e.write, e.timeout, e.status, latency:percentile(50), latency:percentile(99),
    summary.requests / (summary.duration / 1e6)))
end
