-- wrk script for digistore24-mcp (see bench/README.md).
-- Usage: wrk ... -s bench/wrk/mcp.lua URL -- MODE [KEYS [FIXED_KEY [TOOL [ARGUMENTS [FORM]]]]]
--   MODE: call-legacy | call-2026 | list-legacy | list-2026 | upstream | mix
--         mix = listProducts calls in both eras, 1 in 17 requests a tools/list
--   KEYS: how many distinct API keys to rotate through (default 64): each
--         request carries `Authorization: Bearer key-N` (upstream mode:
--         `X-DS-API-KEY: key-N` and a form body, as the server sends it).
--   FIXED_KEY: optional; every request uses this one key instead (the
--         built-in sandbox only knows its own keys, e.g. sandbox-writable);
--         "-" for none.
--   TOOL: the function called (default listProducts); ARGUMENTS its JSON
--         arguments in tool calls (default {}); FORM the form body of the
--         upstream mode (default language=en).
-- Every answer is checked: HTTP 200 and a JSON-RPC "result" (tool calls:
-- not "isError":true; upstream: "result":"success"). Failures are counted
-- as check_failed. done() prints one JSON line prefixed with "WRKJSON ".

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local META = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",' ..
   '"io.modelcontextprotocol/clientCapabilities":{},' ..
   '"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"}}'

local tool = "listProducts"
local arguments = "{}"
local form = "language=en"

local function build(mode, key)
   local h = {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json, text/event-stream",
      ["Authorization"] = "Bearer " .. key,
   }
   if mode == "upstream" then
      return wrk.format("POST", "/api/call/" .. tool, {
         ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8",
         ["Accept"] = "application/json",
         ["X-DS-API-KEY"] = key,
      }, form)
   elseif mode == "call-legacy" then
      h["MCP-Protocol-Version"] = "2025-06-18"
      return wrk.format("POST", nil, h,
         '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool .. '","arguments":' .. arguments .. '}}')
   elseif mode == "call-2026" then
      h["MCP-Protocol-Version"] = "2026-07-28"
      h["Mcp-Method"] = "tools/call"
      h["Mcp-Name"] = tool
      return wrk.format("POST", nil, h,
         '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool .. '","arguments":' .. arguments .. ',' .. META .. '}}')
   elseif mode == "list-legacy" then
      h["MCP-Protocol-Version"] = "2025-06-18"
      return wrk.format("POST", nil, h, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
   elseif mode == "list-2026" then
      h["MCP-Protocol-Version"] = "2026-07-28"
      h["Mcp-Method"] = "tools/list"
      return wrk.format("POST", nil, h, '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{' .. META .. '}}')
   end
   error("unknown mode " .. tostring(mode))
end

local reqs = {}
local n = 0
local i = 0
local is_call = false
local is_upstream = false
checked = 0
check_failed = 0

function init(args)
   local mode = args[1] or "call-legacy"
   local keys = tonumber(args[2] or "64")
   local fixed = args[3]
   if fixed == "-" then fixed = nil end
   tool = args[4] or tool
   arguments = args[5] or arguments
   form = args[6] or form
   is_call = mode:sub(1, 4) == "call" or mode == "mix"
   is_upstream = mode == "upstream"
   -- Each thread starts at its own offset, so threads do not march in step.
   for k = 0, keys - 1 do
      local key = fixed or ("key-" .. ((k + tid * 17) % keys + 1))
      if mode == "mix" then
         reqs[#reqs + 1] = build("call-legacy", key)
         reqs[#reqs + 1] = build("call-2026", key)
         if k % 8 == 0 then
            reqs[#reqs + 1] = build(k % 16 == 0 and "list-legacy" or "list-2026", key)
         end
      else
         reqs[#reqs + 1] = build(mode, key)
      end
   end
   n = #reqs
end

function request()
   i = i % n + 1
   return reqs[i]
end

function response(status, headers, body)
   checked = checked + 1
   local ok = status == 200
   if ok then
      if is_upstream then
         ok = body:find('"result":"success"', 1, true) ~= nil
      else
         -- The JSON-RPC result key comes first, right after the id.
         ok = body:find('"result":{', 1, true) ~= nil
         if ok and is_call then
            ok = body:find('"isError":true', 1, true) == nil
         end
      end
   end
   if not ok then
      check_failed = check_failed + 1
      if check_failed <= 3 then
         io.stderr:write("check failed: status " .. status .. ": " .. body:sub(1, 300) .. "\n")
      end
   end
end

function done(summary, latency, requests)
   local failed, seen = 0, 0
   for _, t in ipairs(threads) do
      failed = failed + (t:get("check_failed") or 0)
      seen = seen + (t:get("checked") or 0)
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,' ..
      '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d},' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"check_failed":%d},"checked":%d}\n',
      summary.requests, secs, summary.requests / secs, summary.bytes,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout, failed, seen))
end
