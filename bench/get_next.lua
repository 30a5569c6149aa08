-- wrk script: GET /api/next as the site's script asks it, for many readers.
--   wrk -t2 -c16 -d10s -s bench/get_next.lua http://127.0.0.1:PORT -- ORIGIN READERS PATHS
-- ORIGIN: the site's origin (the page URLs and the Origin header); READERS: how
-- many distinct browsers (User-Agents, so as many cookieless visitor ids);
-- PATHS: the page paths, comma-separated. Each request is a random reader on a
-- random page. done() prints `WRK_JSON {...}` for bench/next.py.

local origin, readers, paths
local counter = 0

function init(args)
  origin = args[1]
  readers = tonumber(args[2] or "1000")
  paths = {}
  for p in string.gmatch(args[3] or "/posts/one/", "[^,]+") do
    paths[#paths + 1] = p
  end
  math.randomseed(os.time() + counter)
end

local function escape(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function request()
  local reader = math.random(readers)
  local path = paths[math.random(#paths)]
  local headers = {
    ["Origin"] = origin,
    ["Accept"] = "*/*",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
      .. "(KHTML, like Gecko) Chrome/124.0." .. reader .. " Safari/537.36",
  }
  return wrk.format("GET", "/api/next?url=" .. escape(origin .. path), headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,'
      .. '"write":%d,"status":%d,"timeout":%d,"latency_p50_us":%d,"latency_p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
