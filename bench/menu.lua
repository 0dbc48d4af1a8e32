-- wrk script of bench/menu_bench.py: rotates a list of requests ("path<TAB>header<TAB>token"
-- lines, the file named after `--`) from a random offset per thread, and checks every reply:
-- HTTP 200, "code":1 and data that is not null, [] or a page without records. done() prints one
-- JSON line (latencies in microseconds) prefixed "MENUBENCH ".
-- globals, so done() can read them with thread:get()
reqs, i, bad, first_bad, bytes = {}, 1, 0, "", 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local path, header, token = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
    reqs[#reqs + 1] = wrk.format("GET", path, { [header] = token })
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
  i = math.random(#reqs)
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end

function response(status, headers, body)
  bytes = bytes + #body
  if status ~= 200 or not body:find('"code":1,', 1, true) or body:find('"data":null', 1, true)
     or body:find('"data":[]', 1, true) or body:find('"records":[]', 1, true) then
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. body:sub(1, 200) end
  end
end

function done(summary, latency, requests)
  local nbad, nbytes, fb = 0, 0, ""
  for _, t in ipairs(threads) do
    nbad = nbad + t:get("bad")
    nbytes = nbytes + t:get("bytes")
    if fb == "" then fb = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'MENUBENCH {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"errors":%d,"bad":%d,"bytes":%d,"first_bad":"%s"}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect + e.read + e.write + e.status + e.timeout, nbad, nbytes, (fb:gsub("[^%w %-:,{}]", "?"))))
end
