-- wrk script of bench/publish-rate.sh's desk targets: each request moves one demo
-- ticket between "in_progress" and "waiting" (PATCH /api/v1/tickets/ID), a desk change
-- with its history and its event in one transaction. Run with one wrk thread: tickets
-- 1..128 of the demo's 150 in turn, so that no two requests in flight (at most 64) touch
-- the same ticket.
local tickets = 128
local counter = 0
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")

function request()
   local ticket = counter % tickets + 1
   local status = math.floor(counter / tickets) % 2 == 0 and "in_progress" or "waiting"
   counter = counter + 1
   return wrk.format(nil, "/api/v1/tickets/" .. ticket, nil, '{"status":"' .. status .. '"}')
end
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
