-- wrk script for `make bench`: `wrk ... -s bench.lua -- <path> [token-file]`.
--
-- Every request goes to <path>. With a token file (one access token a line),
-- each request carries `Authorization: Bearer <token>`, cycling through the
-- pool from a different offset in each thread, so the revocation lookups hit
-- many sessions. The requests are built once per thread in init(), so the
-- script costs wrk almost nothing per request.
--
-- done() prints one JSON line the harness parses: counts, errors, and the
-- latency percentiles in microseconds.

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_number", counter)
   table.insert(threads, thread)
end

local requests_ = {}
local next_index = 1

function init(args)
   local path = args[1] or "/"
   local token_file = args[2]
   if token_file then
      for token in io.lines(token_file) do
         if #token > 0 then
            table.insert(requests_, wrk.format("GET", path, { Authorization = "Bearer " .. token }))
         end
      end
      if #requests_ == 0 then
         error("no tokens in " .. token_file)
      end
      next_index = (thread_number * 7) % #requests_ + 1
   else
      table.insert(requests_, wrk.format("GET", path))
   end
end

function request()
   local r = requests_[next_index]
   next_index = next_index % #requests_ + 1
   return r
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
