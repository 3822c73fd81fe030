-- wrk's script for benchmarks/peer_bench.py: every request of a list sent once.
-- REQUESTS names a file of raw HTTP requests, each preceded by its length in bytes and a
-- newline. Thread t of n (THREADS) sends the t-th of n consecutive shares of the list over its
-- connections (a share mixes every kind of request, as the list does),
-- and once it has had as many responses it writes a line to FINISHED and stops; the caller
-- interrupts wrk (SIGINT) when every thread has, and wrk's summary then covers the list (give
-- or take the requests in flight on a thread's other connections, sent again from the start:
-- fewer than connections / threads). Each thread counts its statuses; done() prints them.
local threads = {}
local count = 0

function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  local n, all, mine = count_threads(), {}, {}
  local file = assert(io.open(os.getenv("REQUESTS"), "rb"))
  while true do
    local size = file:read("*l")
    if not size then break end
    all[#all + 1] = file:read(tonumber(size))
  end
  file:close()
  for i = math.floor(#all * tid / n) + 1, math.floor(#all * (tid + 1) / n) do
    mine[#mine + 1] = all[i]
  end
  requests, sent, answered, statuses = mine, 0, 0, {}
end

function count_threads()
  return tonumber(os.getenv("THREADS"))
end

function request()
  sent = sent + 1
  return requests[(sent - 1) % #requests + 1]
end

function response(status, headers, body)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if answered == #requests then
    local finished = assert(io.open(os.getenv("FINISHED"), "a"))
    finished:write(tid .. "\n")
    finished:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do parts[#parts + 1] = status .. "=" .. n end
  print("STATUSES " .. table.concat(parts, " "))
  local e = summary.errors
  print(string.format("RESULT seconds=%.6f p50_ms=%.3f p99_ms=%.3f socket_errors=%d",
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout))
end
