-- The wrk script of bench/load.py:
--   wrk ... -s bench/load.lua URL -- MODE HOST API_PREFIX USERS_FILE RUN_ID
-- USERS_FILE holds one "token item-id user-id" line per user; each request takes the next
-- line, so the load is spread over every user. RUN_ID, fresh per run, makes every uncached request's
-- query string unique across runs, not only within one. done() prints one JSON line for bench/load.py.

thread_id = 0 -- set per thread by setup()
local threads = {}
local mode, host, api, run_id
local tokens, items, users = {}, {}, {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  mode, host, api, run_id = args[1], args[2], args[3], args[5]
  for line in io.lines(args[4]) do
    local token, item, user = line:match("^(%S+) (%S+) (%S+)$")
    table.insert(tokens, token)
    table.insert(items, item)
    table.insert(users, user)
  end
end

function request()
  counter = counter + 1
  local n = (counter + thread_id * 7) % #tokens + 1
  local headers = {["Host"] = host, ["Authorization"] = "Bearer " .. tokens[n]}
  if mode == "live" then
    return wrk.format("GET", api .. "/health/live/", {["Host"] = host})
  elseif mode == "round_trip" then
    -- bench.views: health/live/ plus a cached page's MGET (a server on bench.settings)
    return wrk.format("GET", api .. "/bench/round-trip/" .. users[n] .. "/", {["Host"] = host})
  elseif mode == "me" then
    return wrk.format("GET", api .. "/users/me/", headers)
  elseif mode == "cached_list" then
    return wrk.format("GET", api .. "/items/", headers)
  elseif mode == "uncached_list" then
    local nonce = run_id .. "-" .. thread_id .. "-" .. counter
    return wrk.format("GET", api .. "/items/?nonce=" .. nonce, headers)
  elseif mode == "cached_detail" then
    return wrk.format("GET", api .. "/items/" .. items[n] .. "/", headers)
  elseif mode == "uncached_detail" then
    local nonce = run_id .. "-" .. thread_id .. "-" .. counter
    return wrk.format("GET", api .. "/items/" .. items[n] .. "/?nonce=" .. nonce, headers)
  elseif mode == "create" then
    headers["Content-Type"] = "application/json"
    local body = '{"title": "bench ' .. thread_id .. "-" .. counter .. '"}'
    return wrk.format("POST", api .. "/items/", headers, body)
  end
  error("unknown mode " .. tostring(mode))
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRKJSON{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "mean_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
