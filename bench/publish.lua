-- wrk script of bench/publish-rate.sh: POSTs one event per request (the same body to the
-- hub and to Nchan) and prints one JSON line: acknowledged (2xx) publishes per second.
-- The token comes from the environment so that it never appears in a process list.
wrk.method = "POST"
wrk.body = '{"type":"bench","data":{"x":"' .. string.rep("x", 64) .. '"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")

function done(summary, latency, requests)
   local errors = summary.errors
   local seconds = summary.duration / 1e6
   local acked = summary.requests - errors.status
   io.write(string.format(
      '{"responses":%d,"not_2xx":%d,"socket_errors":%d,"seconds":%.2f,"acked_per_s":%.0f,' ..
      '"latency_ms_p50":%.2f,"latency_ms_p99":%.2f,"latency_ms_max":%.2f}\n',
      summary.requests, errors.status,
      errors.connect + errors.read + errors.write + errors.timeout,
      seconds, acked / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
