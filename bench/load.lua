-- wrk script: replay requests from a file, each thread its own share, round robin.
-- Usage: wrk ... -s bench/load.lua URL -- TARGETS_FILE THREADS
-- TARGETS_FILE has one request per line: method, path, cookie, authorization, form body,
-- separated by tabs (empty fields allowed). A form body is sent as
-- application/x-www-form-urlencoded. done() prints one line of JSON for bench/run.py.

local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local file, threads = args[1], tonumber(args[2])
  local count = 0
  for _ in io.lines(file) do count = count + 1 end
  -- Fewer requests than threads (a single URL): every thread replays all of them.
  if count < threads then threads = 1 end
  queue = {}
  local n = 0
  for line in io.lines(file) do
    if n % threads == (id - 1) % threads then
      local method, path, cookie, auth, body =
        line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      if cookie ~= "" then headers["Cookie"] = cookie end
      if auth ~= "" then headers["Authorization"] = auth end
      if body ~= "" then
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      else
        body = nil
      end
      queue[#queue + 1] = wrk.format(method, path, headers, body)
    end
    n = n + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #queue then position = 1 end
  return queue[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"mean_us": %.1f, "max_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
