"""Checks of digistore24-mcp through the official Python MCP SDK and raw HTTP.

Run by tests/clients/run.sh with the repo's .venv interpreter. Every check
prints exactly one line, `PASS <client> <check>` or `FAIL <client> <check>:
reason`; run.sh counts those lines. Sub-commands:

  sdk      the Python SDK (`mcp`) over Streamable HTTP and stdio, in each of
           its protocol modes: legacy handshake, auto, and stateless 2026-07-28
  http     protocol-level HTTP checks with httpx2 (the HTTP client `mcp` ships)
  tenants  N concurrent SDK clients, each with its own sandbox tenant key
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback
from typing import Any, Awaitable, Callable

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.subscriptions import ResourceUpdated
from mcp_types import PromptReference, ResourceTemplateReference

WRITABLE_KEY = "sandbox-writable"
READONLY_KEY = "sandbox-readonly"
# Set by run.sh from the binary's own `tools` listing.
EXPECTED_TOOL_COUNT = int(os.environ["DS24_EXPECTED_TOOLS"])
MUST_HAVE_TOOLS = {"listPurchases", "refundPurchase", "listProducts", "getUserInfo", "getPurchase", "createVoucher"}
LEGACY_VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
MODERN_VERSION = "2026-07-28"
LATEST_LEGACY = LEGACY_VERSIONS[-1]
CALL_TIMEOUT = 30.0
PERMISSION_WORDS = re.compile(r"read|permission|access|forbidden|not allowed", re.I)

_failures = 0


def report(client: str, check: str, ok: bool, reason: str = "") -> None:
    global _failures
    if ok:
        print(f"PASS {client} {check}", flush=True)
    else:
        _failures += 1
        reason = " ".join(str(reason).split()) or "failed"
        if len(reason) > 400:
            reason = reason[:400] + "..."
        print(f"FAIL {client} {check}: {reason}", flush=True)


class CheckFailed(Exception):
    pass


def expect(cond: bool, reason: str) -> None:
    if not cond:
        raise CheckFailed(reason)


def describe(exc: BaseException) -> str:
    """One-line description of an exception, unwrapping exception groups."""
    if isinstance(exc, CheckFailed):
        return str(exc)
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(e) for e in exc.exceptions[:3])
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {text}"


SERVER_LOG = os.environ.get("DS24_SERVER_LOG")  # the HTTP server's log, set by run.sh


def log_offset() -> int | None:
    try:
        return os.path.getsize(SERVER_LOG) if SERVER_LOG else None
    except OSError:
        return None


async def print_log_excerpt(offset: int | None) -> None:
    """The last 40 lines of the HTTP server's log when a check failed; `>` marks the check's own lines."""
    if offset is None or not SERVER_LOG:
        return
    await anyio.sleep(0.1)  # let the server finish writing
    with open(SERVER_LOG, "rb") as f:
        data = f.read()
    before = data[:offset].decode("utf-8", "replace").splitlines()
    during = data[offset:].decode("utf-8", "replace").splitlines()
    lines = [("  ", line) for line in before] + [("> ", line) for line in during]
    print(f"    | last {min(40, len(lines))} lines of {os.path.basename(SERVER_LOG)} ('>': logged during this check):", flush=True)
    for mark, line in lines[-40:]:
        print(f"    | {mark}{line[:300]}", flush=True)


async def run_check(client: str, check: str, fn: Callable[[], Awaitable[None]], timeout: float = CALL_TIMEOUT) -> bool:
    offset = None if ":stdio" in client else log_offset()
    try:
        with anyio.fail_after(timeout):
            await fn()
    except Exception as exc:  # noqa: BLE001 - every failure is reported, never raised
        if os.environ.get("DS24_CLIENTS_DEBUG"):
            traceback.print_exc(file=sys.stderr)
        report(client, check, False, describe(exc))
        await print_log_excerpt(offset)
        return False
    report(client, check, True)
    return True


def dump(obj: Any, limit: int = 200) -> str:
    try:
        text = json.dumps(obj, sort_keys=True, default=str)
    except Exception:  # noqa: BLE001
        text = repr(obj)
    return text if len(text) <= limit else text[:limit] + "..."


def result_text(result: Any) -> str:
    parts = []
    for block in getattr(result, "content", None) or []:
        if getattr(block, "type", None) == "text":
            parts.append(block.text)
    return " ".join(parts)


# ───────────────────────────── Python SDK ─────────────────────────────


def http_transport(url: str, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    http_client = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(CALL_TIMEOUT))
    return streamable_http_client(url, http_client=http_client), http_client


def stdio_transport(binary: str, key: str | None, errlog):
    env = {"RUST_LOG": os.environ.get("RUST_LOG", "info"), "NO_COLOR": "1"}
    if key:
        env["DS24_API_KEY"] = key
    params = StdioServerParameters(command=binary, args=["stdio", "--sandbox"], env=env)
    return stdio_client(params, errlog=errlog)


async def list_all_tools(client: Client) -> list[Any]:
    tools: list[Any] = []
    cursor = None
    for _ in range(50):
        page = await client.list_tools(cursor=cursor) if cursor else await client.list_tools()
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def check_tool_list(tools: list[Any]) -> None:
    names = [t.name for t in tools]
    missing = sorted(MUST_HAVE_TOOLS - set(names))
    expect(not missing, f"missing tools {missing}")
    expect(len(names) == len(set(names)), f"duplicate tool names: {len(names) - len(set(names))}")
    expect(len(names) == EXPECTED_TOOL_COUNT, f"expected {EXPECTED_TOOL_COUNT} tools, got {len(names)}")
    bad_schema = [t.name for t in tools if (t.input_schema or {}).get("type") != "object"]
    expect(not bad_schema, f"tools without an object inputSchema: {bad_schema[:5]}")
    schema = next(t for t in tools if t.name == "getPurchase").input_schema
    expect("purchase_id" in (schema.get("required") or []), f"getPurchase inputSchema does not require purchase_id: {dump(schema)}")


async def check_read_tool(client: Client) -> None:
    result = await client.call_tool("listProducts", {})
    expect(not result.is_error, f"listProducts returned isError: {result_text(result)[:200]}")
    sc = result.structured_content
    expect(isinstance(sc, dict), f"no structuredContent object: {dump(sc)}")
    expect("products" in sc, f"structuredContent has no 'products' key: keys={sorted(sc)[:10]}")
    expect(isinstance(sc["products"], list), f"'products' is not a list: {dump(sc['products'])}")
    expect(result_text(result).strip() != "", "no text content next to structuredContent")


async def check_bad_args(client: Client, args: dict[str, Any]) -> None:
    result = await client.call_tool("getPurchase", args)
    expect(result.is_error is True, f"getPurchase {json.dumps(args)} did not return isError: true (got {dump(result.structured_content)})")
    expect(result_text(result).strip() != "", "error result has no text explaining the error")


async def check_write(client: Client, code: str, want_error: bool) -> None:
    # Complete, valid arguments, so that only the key decides the outcome.
    result = await client.call_tool("createVoucher", {"data": {"code": code, "first_rate": "10"}})
    if want_error:
        expect(result.is_error is True, f"createVoucher with the read-only key did not return isError: true (got {dump(result.structured_content)})")
        expect(bool(PERMISSION_WORDS.search(result_text(result))), f"the error does not say it is about the key's rights: {result_text(result)[:200]!r}")
    else:
        expect(not result.is_error, f"createVoucher with the writable key returned isError: {result_text(result)[:200]}")


async def check_resources(client: Client) -> None:
    listed = await client.list_resources()
    uris = [r.uri for r in listed.resources]
    expect("digistore24://account" in uris and "digistore24://products" in uris, f"resources/list: {uris}")
    templates = await client.list_resource_templates()
    expect(any(t.uri_template == "digistore24://purchases/{purchase_id}" for t in templates.resource_templates),
           f"resources/templates/list: {[t.uri_template for t in templates.resource_templates]}")
    account = json.loads((await client.read_resource("digistore24://account")).contents[0].text)
    expect(account.get("getUserInfo", {}).get("api_key_permissions") == "writable",
           f"digistore24://account does not say the key is writable: {dump(account)}")
    products = json.loads((await client.read_resource("digistore24://products")).contents[0].text)
    product_id = products["products"][0]["id"]
    product = json.loads((await client.read_resource(f"digistore24://products/{product_id}")).contents[0].text)
    expect(product.get("product", {}).get("id") == product_id, f"template read of product {product_id}: {dump(product)}")
    guide = (await client.read_resource("digistore24://guide/amounts")).contents[0].text
    expect("currency" in guide, f"guide/amounts: {guide[:100]!r}")


async def check_prompts(client: Client) -> None:
    names = [p.name for p in (await client.list_prompts()).prompts]
    expect(len(names) >= 5 and "refund_order" in names, f"prompts/list: {names}")
    got = await client.get_prompt("refund_order", {"purchase_id": "ABC12DEF"})
    text = got.messages[0].content.text
    expect("getPurchase" in text and "dry_run" in text and "ABC12DEF" in text, f"prompts/get refund_order: {text[:200]!r}")


async def check_completion(client: Client) -> None:
    ref = ResourceTemplateReference(uri="digistore24://guide/{topic}")
    topics = (await client.complete(ref, {"name": "topic", "value": "pa"})).completion
    expect(topics.values == ["paging"], f"topic completion: {topics.values}")
    emails = (await client.complete(PromptReference(name="customer_lookup"), {"name": "email", "value": "paul"})).completion
    expect(emails.values and all(v.startswith("paul") for v in emails.values) and len(emails.values) <= 100,
           f"e-mail completion from the account: {emails.values[:5]}")


def sandbox_purchases_url() -> str | None:
    """The sandbox's purchase URL, as the server's start-up banner prints it."""
    path = os.environ.get("DS24_SERVER_LOG")
    if not path or not os.path.exists(path):
        return None
    with open(path, errors="replace") as f:
        found = re.search(r"sandbox purchases: POST (\S+)", f.read())
    return found.group(1) if found else None


async def check_listen_events(client: Client) -> None:
    """2026-07-28 over HTTP: listen to digistore24://events, sell in the sandbox, get the update."""
    purchases = sandbox_purchases_url()
    expect(purchases is not None, "no 'sandbox purchases: POST …' line in the server log (DS24_SERVER_LOG)")
    connected = await client.call_tool("events_connect", {})
    expect(not connected.is_error, f"events_connect: {result_text(connected)[:200]}")
    async with client.listen(resource_subscriptions=["digistore24://events", "digistore24://account"]) as sub:
        honored = list(sub.honored.resource_subscriptions or [])
        expect(honored == ["digistore24://events"], f"honored subscriptions: {honored}")
        async with httpx2.AsyncClient() as http:
            sold = await http.post(purchases, content="{}", headers={"X-DS-API-KEY": WRITABLE_KEY})
        expect(sold.status_code == 200 and sold.json()["data"]["ipn_sent_to"] >= 1, f"sandbox purchase: {sold.status_code} {sold.text[:200]}")
        with anyio.fail_after(10):
            event = await sub.__anext__()
        expect(isinstance(event, ResourceUpdated) and event.uri == "digistore24://events", f"first event on the stream: {event!r}")
    latest = json.loads((await client.read_resource("digistore24://events")).contents[0].text)
    order = sold.json()["data"]["purchase_id"]
    expect(latest["events"] and latest["events"][-1].get("order_id") == order, f"digistore24://events after the sale of {order}: {dump(latest)}")


SDK_CHECKS = ["connect", "tools/list", "call-read-tool", "bad-args-missing", "bad-args-unknown", "write-writable-key",
              "resources", "prompts", "completion", "close", "write-readonly-key"]


async def sdk_client_run(client_name: str, mode: str, make_transport: Callable[[str | None], Any], code: str) -> None:
    """All SDK checks for one (transport, mode) pair."""
    expected_version = LATEST_LEGACY if mode == "legacy" else MODERN_VERSION
    reported: set[str] = set()

    async def check(name: str, fn: Callable[[], Awaitable[None]]) -> None:
        await run_check(client_name, name, fn)
        reported.add(name)

    offset = None if ":stdio" in client_name else log_offset()
    try:
        # Scopes (timeouts) must nest inside the client's own task groups, so the whole
        # session gets one outer deadline and every check below gets its own.
        with anyio.fail_after(6 * CALL_TIMEOUT):
            async with Client(make_transport(WRITABLE_KEY), mode=mode, read_timeout_seconds=CALL_TIMEOUT) as client:

                async def connect_check() -> None:
                    expect(client.protocol_version == expected_version,
                           f"negotiated protocol {client.protocol_version!r}, expected {expected_version!r}")
                    if mode in ("legacy", "auto"):  # a pinned version adopts a synthesized discover result, no wire traffic
                        expect(client.server_capabilities.tools is not None, "server does not advertise the tools capability")

                async def list_check() -> None:
                    check_tool_list(await list_all_tools(client))

                await check("connect", connect_check)
                await check("tools/list", list_check)
                await check("call-read-tool", lambda: check_read_tool(client))
                await check("bad-args-missing", lambda: check_bad_args(client, {}))
                await check("bad-args-unknown", lambda: check_bad_args(client, {"purchase_id": 5, "bogus": 1}))
                await check("write-writable-key", lambda: check_write(client, code, want_error=False))
                await check("resources", lambda: check_resources(client))
                await check("prompts", lambda: check_prompts(client))
                await check("completion", lambda: check_completion(client))
                if mode == MODERN_VERSION and ":http:" in client_name:
                    # Events live in `serve` (HTTP); listen is the 2026-07-28 way to subscribe.
                    await check("listen-events", lambda: check_listen_events(client))
    except Exception as exc:  # noqa: BLE001
        reason = describe(exc)
        connected = "connect" in reported
        if not connected:
            report(client_name, "connect", False, reason)
            await print_log_excerpt(offset)
        why = f"session failed: {reason}" if connected else "connect failed"
        for name in SDK_CHECKS:
            if name not in reported and name not in ("connect", "write-readonly-key"):
                report(client_name, name, False, why if name == "close" and connected else (f"aborted, {why}" if connected else f"not run: {why}"))
    else:
        report(client_name, "close", True)

    async def readonly_check() -> None:
        async with Client(make_transport(READONLY_KEY), mode=mode, read_timeout_seconds=CALL_TIMEOUT) as ro:
            read = await ro.call_tool("listProducts", {})
            expect(not read.is_error, f"read with the read-only key failed: {result_text(read)[:200]}")
            await check_write(ro, code + "RO", want_error=True)

    await run_check(client_name, "write-readonly-key", readonly_check, timeout=2 * CALL_TIMEOUT)


async def cmd_sdk(args: argparse.Namespace) -> None:
    modes = ["legacy", "auto", MODERN_VERSION]
    os.makedirs(args.logdir, exist_ok=True)
    for transport in args.transports.split(","):
        for mode in modes:
            name = f"python-sdk:{transport}:{mode}"
            code = re.sub(r"[^A-Z0-9]", "", f"PY{transport}{mode}".upper())
            if transport == "http":
                opened: list[httpx2.AsyncClient] = []

                def make(key: str | None, opened=opened):
                    transport_cm, http_client = http_transport(args.url, key)
                    opened.append(http_client)
                    return transport_cm

                try:
                    await sdk_client_run(name, mode, make, code)
                finally:
                    for c in opened:
                        await c.aclose()
            else:
                log_path = os.path.join(args.logdir, f"stdio-python-{mode}.log")
                with open(log_path, "a") as errlog:
                    await sdk_client_run(name, mode, lambda key: stdio_transport(args.bin, key, errlog), code)


# ───────────────────────────── raw HTTP ─────────────────────────────

BASE_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Authorization": f"Bearer {WRITABLE_KEY}",
}


def init_body(version: str, rid: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "ds24-harness-raw", "version": "1.0.0"},
        },
    }


def modern_meta() -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientInfo": {"name": "ds24-harness-raw", "version": "1.0.0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }


def modern_request(method: str, params: dict[str, Any] | None = None, rid: int = 1, name: str | None = None):
    body = {"jsonrpc": "2.0", "id": rid, "method": method, "params": {**(params or {}), "_meta": modern_meta()}}
    headers = {**BASE_HEADERS, "MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": method}
    if name is not None:
        headers["Mcp-Name"] = name
    return body, headers


def parse_body(resp: httpx2.Response) -> Any:
    """JSON body of a response, also accepting a single-event SSE body."""
    ctype = resp.headers.get("content-type", "")
    text = resp.text
    if ctype.startswith("text/event-stream"):
        datas = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
        datas = [d for d in datas if d]
        expect(bool(datas), f"SSE body without data: {text[:200]!r}")
        return json.loads(datas[-1])
    try:
        return json.loads(text)
    except ValueError:
        raise CheckFailed(f"HTTP {resp.status_code} body is not JSON (content-type {ctype!r}): {text[:200]!r}") from None


def short(resp: httpx2.Response) -> str:
    return f"HTTP {resp.status_code} {resp.headers.get('content-type', '')!r} {resp.text[:200]!r}"


def jsonrpc_error(body: Any) -> dict[str, Any] | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return None


async def cmd_http(args: argparse.Namespace) -> None:
    url = args.url
    base = url.rsplit("/mcp", 1)[0]
    client_name = "http"
    # A fresh connection per request: each check must see only its own request, whatever the
    # server does with the connection after rejecting an earlier one.
    limits = httpx2.Limits(max_keepalive_connections=0)
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(CALL_TIMEOUT), limits=limits) as http:

        async def post(body: Any, headers: dict[str, str], raw: bytes | None = None) -> httpx2.Response:
            content = raw if raw is not None else json.dumps(body).encode()
            return await http.post(url, content=content, headers=headers)

        async def legacy_list_tools(version: str) -> list[dict[str, Any]]:
            tools: list[dict[str, Any]] = []
            cursor = None
            for rid in range(2, 50):
                body = {"jsonrpc": "2.0", "id": rid, "method": "tools/list", "params": {"cursor": cursor} if cursor else {}}
                resp = await post(body, {**BASE_HEADERS, "MCP-Protocol-Version": version})
                expect(resp.status_code == 200, f"tools/list at {version}: {short(resp)}")
                data = parse_body(resp)
                expect("result" in data, f"tools/list at {version}: {dump(data)}")
                tools.extend(data["result"].get("tools", []))
                cursor = data["result"].get("nextCursor")
                if not cursor:
                    break
            return tools

        async def health() -> None:
            resp = await http.get(f"{base}/health")
            expect(resp.status_code == 200, f"GET /health: {short(resp)}")
            expect(isinstance(parse_body(resp), dict), f"GET /health is not a JSON object: {resp.text[:200]!r}")

        await run_check(client_name, "health-200", health)

        async def origin() -> None:
            resp = await post(init_body(LATEST_LEGACY), {**BASE_HEADERS, "Origin": "https://evil.example"})
            expect(resp.status_code == 403, f"Origin https://evil.example: expected 403, got {short(resp)}")
            resp = await post(init_body(LATEST_LEGACY), BASE_HEADERS)
            expect(resp.status_code == 200, f"same request without Origin: expected 200, got {short(resp)}")

        await run_check(client_name, "origin-disallowed-403", origin)

        async def accept_missing() -> None:
            headers = {k: v for k, v in BASE_HEADERS.items() if k != "Accept"}
            # httpx2 adds `Accept: */*` unless told otherwise; send the request with no Accept at all.
            req = http.build_request("POST", url, content=json.dumps(init_body(LATEST_LEGACY)).encode(), headers=headers)
            del req.headers["Accept"]
            resp = await http.send(req)
            expect(resp.status_code == 406, f"POST without Accept: expected 406, got {short(resp)}")

        await run_check(client_name, "accept-missing-406", accept_missing)

        async def accept_wrong() -> None:
            resp = await post(init_body(LATEST_LEGACY), {**BASE_HEADERS, "Accept": "text/html"})
            expect(resp.status_code == 406, f"POST with Accept: text/html: expected 406, got {short(resp)}")

        await run_check(client_name, "accept-text-html-406", accept_wrong)

        async def content_type() -> None:
            resp = await post(init_body(LATEST_LEGACY), {**BASE_HEADERS, "Content-Type": "text/plain"})
            expect(resp.status_code == 415, f"Content-Type text/plain: expected 415, got {short(resp)}")

        await run_check(client_name, "content-type-415", content_type)

        async def parse_error() -> None:
            resp = await post(None, BASE_HEADERS, raw=b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", ')
            expect(resp.status_code == 400, f"malformed JSON: expected HTTP 400, got {short(resp)}")
            data = parse_body(resp)
            err = jsonrpc_error(data)
            expect(err is not None and err.get("code") == -32700, f"malformed JSON: expected JSON-RPC error -32700, got {dump(data)}")
            expect("id" in data and data["id"] is None, f"parse error response must carry \"id\": null, got {dump(data)}")

        await run_check(client_name, "malformed-json-32700", parse_error)

        async def unknown_method_legacy() -> None:
            body = {"jsonrpc": "2.0", "id": 7, "method": "no/such/method", "params": {}}
            resp = await post(body, {**BASE_HEADERS, "MCP-Protocol-Version": LATEST_LEGACY})
            data = parse_body(resp)
            err = jsonrpc_error(data)
            expect(err is not None and err.get("code") == -32601, f"expected JSON-RPC error -32601, got {short(resp)}")
            expect(data.get("id") == 7, f"error response id {data.get('id')!r} != request id 7")

        await run_check(client_name, f"unknown-method-32601({LATEST_LEGACY})", unknown_method_legacy)

        async def unknown_method_modern() -> None:
            body, headers = modern_request("no/such/method", rid=8)
            resp = await post(body, headers)
            data = parse_body(resp)
            err = jsonrpc_error(data)
            expect(err is not None and err.get("code") == -32601, f"expected JSON-RPC error -32601, got {short(resp)}")
            expect(data.get("id") == 8, f"error response id {data.get('id')!r} != request id 8")

        await run_check(client_name, f"unknown-method-32601({MODERN_VERSION})", unknown_method_modern)

        async def batch() -> None:
            body = [
                {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
                {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
            ]
            resp = await post(body, {**BASE_HEADERS, "MCP-Protocol-Version": LATEST_LEGACY})
            expect(400 <= resp.status_code < 500, f"JSON-RPC batch: expected a 4xx error, got {short(resp)}")
            data = parse_body(resp)
            errors = data if isinstance(data, list) else [data]
            errs = [jsonrpc_error(e) for e in errors]
            expect(bool(errs) and all(e is not None for e in errs), f"JSON-RPC batch: expected JSON-RPC error object(s), got {dump(data)}")
            expect(all(isinstance(e.get("code"), int) and e.get("message") for e in errs),
                   f"JSON-RPC batch: error without code/message: {dump(data)}")
            expect(not any("result" in e for e in errors if isinstance(e, dict)), f"JSON-RPC batch was (partly) executed: {dump(data)}")

        await run_check(client_name, "batch-rejected", batch)

        async def bad_version_header() -> None:
            body = {"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}}
            resp = await post(body, {**BASE_HEADERS, "MCP-Protocol-Version": "1999-01-01"})
            expect(resp.status_code == 400, f"MCP-Protocol-Version: 1999-01-01: expected 400, got {short(resp)}")

        await run_check(client_name, "unsupported-protocol-header-400", bad_version_header)

        async def get_405() -> None:
            # Only the status line matters; a server that wrongly opens an SSE stream must not hang the check.
            headers = {"Accept": "text/event-stream", "Authorization": BASE_HEADERS["Authorization"]}
            async with http.stream("GET", url, headers=headers, timeout=httpx2.Timeout(10)) as resp:
                status, ctype = resp.status_code, resp.headers.get("content-type", "")
            expect(status == 405, f"GET /mcp: expected 405, got HTTP {status} {ctype!r}")

        await run_check(client_name, "get-mcp-405", get_405)

        async def notification_202() -> None:
            body = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            resp = await post(body, {**BASE_HEADERS, "MCP-Protocol-Version": LATEST_LEGACY})
            expect(resp.status_code == 202, f"notification: expected 202 Accepted, got {short(resp)}")

        await run_check(client_name, "notification-202", notification_202)

        for version in LEGACY_VERSIONS:

            async def negotiate(version: str = version) -> None:
                resp = await post(init_body(version), BASE_HEADERS)
                expect(resp.status_code == 200, f"initialize {version}: {short(resp)}")
                data = parse_body(resp)
                result = data.get("result") if isinstance(data, dict) else None
                expect(isinstance(result, dict), f"initialize {version}: {dump(data)}")
                expect(result.get("protocolVersion") == version,
                       f"initialize {version}: server answered protocolVersion {result.get('protocolVersion')!r}")
                expect(isinstance(result.get("serverInfo"), dict) and result["serverInfo"].get("name"), f"no serverInfo: {dump(result)}")
                expect("tools" in (result.get("capabilities") or {}), f"no tools capability: {dump(result)}")
                expect("mcp-session-id" not in resp.headers, f"stateless server issued Mcp-Session-Id {resp.headers.get('mcp-session-id')!r}")
                tools = await legacy_list_tools(version)
                expect(len(tools) == EXPECTED_TOOL_COUNT, f"tools/list at {version}: {len(tools)} tools, expected {EXPECTED_TOOL_COUNT}")

            await run_check(client_name, f"negotiate-{version}", negotiate)

        async def discover() -> None:
            body, headers = modern_request("server/discover", rid=11)
            resp = await post(body, headers)
            expect(resp.status_code == 200, f"server/discover: {short(resp)}")
            data = parse_body(resp)
            result = data.get("result") if isinstance(data, dict) else None
            expect(isinstance(result, dict), f"server/discover: {dump(data)}")
            versions = result.get("supportedVersions") or []
            expect(MODERN_VERSION in versions, f"supportedVersions {versions} lacks {MODERN_VERSION}")
            expect("tools" in (result.get("capabilities") or {}), f"no tools capability: {dump(result)}")

        await run_check(client_name, f"negotiate-{MODERN_VERSION}-discover", discover)

        async def modern_calls() -> None:
            tools: list[dict[str, Any]] = []
            cursor = None
            for rid in range(20, 70):
                body, headers = modern_request("tools/list", {"cursor": cursor} if cursor else {}, rid=rid)
                resp = await post(body, headers)
                expect(resp.status_code == 200, f"tools/list at {MODERN_VERSION}: {short(resp)}")
                data = parse_body(resp)
                expect("result" in data, f"tools/list at {MODERN_VERSION}: {dump(data)}")
                tools.extend(data["result"].get("tools", []))
                cursor = data["result"].get("nextCursor")
                if not cursor:
                    break
            expect(len(tools) == EXPECTED_TOOL_COUNT, f"{len(tools)} tools at {MODERN_VERSION}, expected {EXPECTED_TOOL_COUNT}")
            body, headers = modern_request("tools/call", {"name": "listProducts", "arguments": {}}, rid=99, name="listProducts")
            resp = await post(body, headers)
            expect(resp.status_code == 200, f"tools/call at {MODERN_VERSION}: {short(resp)}")
            data = parse_body(resp)
            result = data.get("result") or {}
            expect(not result.get("isError") and "products" in (result.get("structuredContent") or {}),
                   f"tools/call listProducts at {MODERN_VERSION}: {dump(data)}")
            expect("mcp-session-id" not in resp.headers, "stateless server issued Mcp-Session-Id")

        await run_check(client_name, f"negotiate-{MODERN_VERSION}-per-request", modern_calls)

        for header_name in ["Authorization", "X-DS-API-KEY"]:

            async def key_header(header_name: str = header_name) -> None:
                value = f"Bearer {READONLY_KEY}" if header_name == "Authorization" else READONLY_KEY
                headers = {**{k: v for k, v in BASE_HEADERS.items() if k != "Authorization"},
                           "MCP-Protocol-Version": LATEST_LEGACY, header_name: value}
                body = {"jsonrpc": "2.0", "id": 5, "method": "tools/call",
                        "params": {"name": "createVoucher", "arguments": {"data": {"code": "RAWHDR", "first_rate": "10"}}}}
                resp = await post(body, headers)
                data = parse_body(resp)
                result = data.get("result") if isinstance(data, dict) else None
                expect(isinstance(result, dict) and result.get("isError") is True,
                       f"createVoucher with the read-only key in {header_name}: expected isError: true, got {dump(data)}")
                text = " ".join(c.get("text", "") for c in result.get("content", []) if isinstance(c, dict))
                expect(bool(PERMISSION_WORDS.search(text)), f"the error does not say it is about the key's rights: {text[:200]!r}")

            await run_check(client_name, f"readonly-key-via-{header_name}", key_header)


# ───────────────────────────── tenants ─────────────────────────────

IDENTITY_KEY = re.compile(r"user|name|vendor|email|login|id$|_id", re.I)
VOLATILE_KEY = re.compile(r"time|date|now|request|expire|stamp", re.I)


def identity_of(sc: Any) -> str:
    """The account-identifying fields of a getUserInfo structuredContent, as a stable string."""
    fields: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif not isinstance(value, list):
            leaf = path.rsplit(".", 1)[-1]
            if IDENTITY_KEY.search(leaf) and not VOLATILE_KEY.search(leaf):
                fields[path] = value

    walk(sc, "")
    return json.dumps(fields, sort_keys=True) if fields else json.dumps(sc, sort_keys=True)


async def cmd_tenants(args: argparse.Namespace) -> None:
    client_name = "python-sdk:tenants"
    modes = ["legacy", "auto", MODERN_VERSION]
    keys = [f"sandbox-tenant-{i:02d}" for i in range(1, args.count + 1)]
    baseline: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    calls = 0

    async def with_client(key: str, mode: str, fn):
        http_client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=httpx2.Timeout(60))
        try:
            async with Client(streamable_http_client(args.url, http_client=http_client), mode=mode) as client:
                return await fn(client)
        finally:
            await http_client.aclose()

    async def user_and_products(client: Client) -> tuple[str, str]:
        info = await client.call_tool("getUserInfo", {})
        expect(not info.is_error, f"getUserInfo failed: {result_text(info)[:200]}")
        products = await client.call_tool("listProducts", {})
        expect(not products.is_error, f"listProducts failed: {result_text(products)[:200]}")
        expect(isinstance(products.structured_content, dict) and "products" in products.structured_content,
               f"listProducts without 'products': {dump(products.structured_content)}")
        return identity_of(info.structured_content), json.dumps(products.structured_content["products"], sort_keys=True)

    # Phase 1: each tenant's own identity, one at a time, plus the default account's.
    async def phase1() -> None:
        default_identity, _ = await with_client(WRITABLE_KEY, "auto", user_and_products)
        for key in keys:
            baseline[key] = await with_client(key, "auto", user_and_products)
        identities = {ident for ident, _ in baseline.values()}
        expect(len(identities) == len(keys),
               f"{len(keys)} tenant keys map to only {len(identities)} distinct getUserInfo identities, e.g. {next(iter(identities))[:150]}")
        expect(default_identity not in identities, f"a tenant key sees the default sandbox account's identity {default_identity[:150]}")
        for key in keys:  # where an identity names a tenant, it must be its own
            own = key.removeprefix("sandbox-")
            others = set(re.findall(r"tenant-\d+", baseline[key][0])) - {own}
            expect(not others, f"{key} sees the identity of {sorted(others)}: {baseline[key][0][:150]}")

    if not await run_check(client_name, f"distinct-identities-{args.count}-keys", phase1, timeout=120):
        report(client_name, f"concurrent-{args.count}-clients-own-identity", False, "not run: baseline failed")
        return

    # Phase 2: all tenants at once, each with several concurrent calls per client.
    async def tenant(index: int, key: str) -> None:
        nonlocal calls
        mode = modes[index % len(modes)]
        want_identity, want_products = baseline[key]

        async def body(client: Client) -> None:
            nonlocal calls

            async def one_round(r: int) -> None:
                nonlocal calls
                if r % 2 == 0:
                    info = await client.call_tool("getUserInfo", {})
                    calls += 1
                    if info.is_error:
                        problems.append(f"{key}: getUserInfo isError {result_text(info)[:100]}")
                    elif identity_of(info.structured_content) != want_identity:
                        problems.append(f"{key} ({mode}) saw identity {identity_of(info.structured_content)[:120]} instead of {want_identity[:120]}")
                else:
                    products = await client.call_tool("listProducts", {})
                    calls += 1
                    got = json.dumps((products.structured_content or {}).get("products"), sort_keys=True)
                    if products.is_error:
                        problems.append(f"{key}: listProducts isError {result_text(products)[:100]}")
                    elif got != want_products:
                        problems.append(f"{key} ({mode}) saw products {got[:120]} instead of its own {want_products[:120]}")

            async with anyio.create_task_group() as tg:
                for r in range(args.rounds * 2):
                    tg.start_soon(one_round, r)

        await with_client(key, mode, body)

    async def phase2() -> None:
        async with anyio.create_task_group() as tg:
            for i, key in enumerate(keys):
                tg.start_soon(tenant, i, key)
        expected_calls = len(keys) * args.rounds * 2
        expect(not problems, f"{len(problems)} cross-tenant/failed results, first: {problems[0] if problems else ''}")
        expect(calls == expected_calls, f"only {calls} of {expected_calls} calls completed")

    await run_check(client_name, f"concurrent-{args.count}-clients-own-identity", phase2, timeout=180)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sdk")
    p.add_argument("--url", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--logdir", required=True)
    p.add_argument("--transports", default="http,stdio")
    p = sub.add_parser("http")
    p.add_argument("--url", required=True)
    p = sub.add_parser("tenants")
    p.add_argument("--url", required=True)
    p.add_argument("--count", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3, help="getUserInfo+listProducts pairs per client")
    args = parser.parse_args()
    handler = {"sdk": cmd_sdk, "http": cmd_http, "tenants": cmd_tenants}[args.cmd]
    anyio.run(handler, args)
    return 1 if _failures else 0


if __name__ == "__main__":
    sys.exit(main())
