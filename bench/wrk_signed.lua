-- wrk script: cycle through precomputed signed Twilio webhook requests, each sent once.
-- args: <file of "path TAB body TAB signature" lines> <delay ms between requests, 0 = none>
local reqs, n, i, seen, pace = {}, 0, 0, 0, 0

function init(args)
  pace = tonumber(args[2] or "0")
  for line in io.lines(args[1]) do
    local path, body, sig = line:match("^([^\t]+)\t([^\t]*)\t([^\t]+)$")
    if path then
      n = n + 1
      reqs[n] = wrk.format("POST", path, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = sig,
      }, body)
    end
  end
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

function delay()
  return pace
end

function response(status, headers, body)
  seen = seen + 1
  if seen >= n then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
