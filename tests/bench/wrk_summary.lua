-- One summary line for the benchmark (no per-response callback: it would slow wrk down).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("SPIN-WRK requests=%d connect=%d read=%d write=%d timeout=%d status=%d p99_us=%d rps=%.1f\n",
    summary.requests, e.connect, e.read, e.write, e.timeout, e.status, latency:percentile(99),
    summary.requests / (summary.duration / 1e6)))
end
