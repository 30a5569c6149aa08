-- wrk script: POST the site's pageview beacon, as the tracking snippet sends it.
--   wrk -t2 -c16 -d10s -s bench/post_event.lua http://127.0.0.1:PORT/api/event -- http://127.0.0.1:PORT
-- The argument after `--` is the site origin the page is on (Origin header and
-- the beacon's url); it defaults to the target's own origin.
-- done() prints one machine-readable line, `WRK_JSON {...}`, for bench/ingest.py.

local req

function init(args)
  local origin = args[1] or (wrk.scheme .. "://" .. wrk.host .. ":" .. wrk.port)
  wrk.method = "POST"
  wrk.body = '{"name":"pageview","url":"' .. origin .. '/posts/one/?utm_source=x",'
    .. '"referrer":"https://news.example/","title":"One","width":1280}'
  wrk.headers["Content-Type"] = "text/plain"
  wrk.headers["Origin"] = origin
  wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    .. "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
  wrk.headers["Accept"] = "*/*"
  wrk.headers["Accept-Language"] = "en-GB,en;q=0.9"
  req = wrk.format()
end

function request()
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,'
      .. '"write":%d,"status":%d,"timeout":%d,"latency_p50_us":%d,"latency_p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
