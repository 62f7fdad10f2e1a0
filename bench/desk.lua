-- wrk script of bench/desk.sh. BENCH_MODE picks the request:
--   (unset)  GET of wrk's URL, with the headers given on the command line;
--   create   POST /api/v1/tickets, a new ticket each time (API token BENCH_TOKEN);
--   status   PATCH /api/v1/tickets/ID, moving the 128 tickets from BENCH_FIRST on
--            between "in_progress" and "waiting" in turn. Run with one wrk thread: the
--            counter is per thread, and no two requests in flight (at most 64) then
--            touch the same ticket.
-- done() prints one JSON line: responses, errors, requests/s and latency percentiles.
local mode = os.getenv("BENCH_MODE") or ""
local first = tonumber(os.getenv("BENCH_FIRST") or "1")
local tickets = 128
local counter = 0

if mode ~= "" then
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
end

function request()
   counter = counter + 1
   if mode == "create" then
      local body = '{"title":"Не печатает принтер ' .. counter ..
         '","description":"Printer on floor 3 shows offline","priority":"medium"}'
      return wrk.format("POST", "/api/v1/tickets", nil, body)
   elseif mode == "status" then
      local ticket = first + counter % tickets
      local status = math.floor(counter / tickets) % 2 == 0 and "in_progress" or "waiting"
      return wrk.format("PATCH", "/api/v1/tickets/" .. ticket, nil, '{"status":"' .. status .. '"}')
   end
   return wrk.format(nil, nil)
end

function done(summary, latency, requests)
   local errors = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      '{"responses":%d,"not_2xx":%d,"socket_errors":%d,"seconds":%.2f,"per_s":%.0f,' ..
      '"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
      summary.requests, errors.status,
      errors.connect + errors.read + errors.write + errors.timeout,
      seconds, (summary.requests - errors.status) / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
