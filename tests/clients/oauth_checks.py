"""OAuth checks of digistore24-mcp through the official Python MCP SDK's OAuth client.

Run by tests/clients/run.sh (group `oauth`) against `serve --sandbox --oauth --public-url
http://127.0.0.1:PORT`. `mcp.client.auth.OAuthClientProvider` does discovery (401 challenge →
protected-resource metadata → authorization-server metadata), dynamic client registration,
PKCE and the token exchange; this script stands in for the browser: its redirect handler
opens the sign-in page, pastes the tenant's sandbox key into the form and hands the code from
the redirect back to the SDK. Then tools/list and tools/call run with the sealed token, and a
forced expiry makes the SDK refresh. One line per check: `PASS <client> <check>` or
`FAIL <client> <check>: reason`.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from python_checks import expect, report, run_check  # the shared reporting of the clients suite

CLIENT = "python-sdk:oauth"
TENANT_KEY = "sandbox-oauth-tenant"  # an extra sandbox key with its own account
DEFAULT_KEY = "sandbox-writable"
REDIRECT_URI = "http://127.0.0.1:53682/callback"  # never listened on: the checks read the Location header


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class FormFiller:
    """The browser's part: open the sign-in page, paste the key, follow the form to the redirect."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.result: AuthorizationCodeResult | None = None
        self.sign_ins = 0

    async def redirect(self, authorization_url: str) -> None:
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as http:
            page = await http.get(authorization_url)
            expect(page.status_code == 200, f"GET /authorize answered {page.status_code}: {page.text[:200]}")
            expect("frame-ancestors 'none'" in page.headers.get("content-security-policy", ""), "the sign-in page lacks its CSP")
            match = re.search(r'name="request" value="([^"]+)"', page.text)
            expect(match is not None, "the sign-in page has no sealed request field")
            cookie = page.headers.get("set-cookie", "").split(";")[0]
            expect(cookie.startswith("ds24mcp_signin="), f"no sign-in cookie: {cookie!r}")
            form = {"request": html.unescape(match.group(1)), "api_key": self.key}
            posted = await http.post(urlparse(authorization_url)._replace(query="").geturl(), data=form, headers={"cookie": cookie})
            expect(posted.status_code == 303, f"POST /authorize answered {posted.status_code}: {posted.text[:300]}")
            location = posted.headers["location"]
            expect(location.startswith(REDIRECT_URI), f"redirected to {location[:120]} instead of the registered redirect")
            query = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
            self.result = AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))
            self.sign_ins += 1

    async def callback(self) -> AuthorizationCodeResult:
        expect(self.result is not None, "no code came back from the sign-in form")
        return self.result


def identity(info: object) -> str:
    data = getattr(info, "structured_content", None) or {}
    return f"{data.get('user_id')}/{data.get('user_name')}"


async def cmd_oauth(args: argparse.Namespace) -> None:
    storage = MemoryStorage()
    filler = FormFiller(TENANT_KEY)
    provider = OAuthClientProvider(
        server_url=args.url,
        client_metadata=OAuthClientMetadata(
            client_name="python-sdk oauth check",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=storage,
        redirect_handler=filler.redirect,
        callback_handler=filler.callback,
    )
    http = httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(30))
    state: dict[str, object] = {}

    async def raw_identity(key: str) -> str:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx2.AsyncClient(headers=headers, timeout=30) as raw:
            async with Client(streamable_http_client(args.url, http_client=raw), mode="auto") as client:
                info = await client.call_tool("getUserInfo", {})
                expect(not info.is_error, f"getUserInfo with the raw key failed: {info}")
                return identity(info)

    async def sign_in_and_list() -> None:
        async with Client(streamable_http_client(args.url, http_client=http), mode="auto") as client:
            tools = await client.list_tools()
            names = {t.name for t in tools.tools}
            expect("refundPurchase" in names and "listPurchases" in names, f"tools/list after sign-in: {len(names)} tools")
            state["client"] = client
        expect(filler.sign_ins == 1, f"{filler.sign_ins} sign-ins instead of one")
        expect(storage.client_info is not None and storage.client_info.client_id.startswith("ds24mcp_cl_"),
               "the SDK did not register a client (DCR)")
        expect(storage.tokens is not None and storage.tokens.access_token.startswith("ds24mcp_at_"), "no access token of ours")
        expect(TENANT_KEY not in storage.tokens.access_token, "the key is readable in the token")

    async def call_with_pasted_key() -> None:
        async with Client(streamable_http_client(args.url, http_client=http), mode="auto") as client:
            info = await client.call_tool("getUserInfo", {})
            expect(not info.is_error, f"getUserInfo failed: {info}")
            through_oauth = identity(info)
        expect(through_oauth == await raw_identity(TENANT_KEY), f"the OAuth call saw {through_oauth}, not the pasted key's account")
        expect(through_oauth != await raw_identity(DEFAULT_KEY), "the OAuth call used the sandbox's default key")

    async def refresh() -> None:
        before = storage.tokens
        expect(before is not None and before.refresh_token, "no refresh token was issued")
        provider.context.token_expiry_time = time.time() - 1  # as if 24 hours had passed
        async with Client(streamable_http_client(args.url, http_client=http), mode="auto") as client:
            info = await client.call_tool("getUserInfo", {})
            expect(not info.is_error, f"getUserInfo after the refresh failed: {info}")
        after = storage.tokens
        expect(after.access_token != before.access_token, "the access token did not change: no refresh happened")
        expect(after.refresh_token and after.refresh_token != before.refresh_token, "the refresh token did not rotate")
        expect(filler.sign_ins == 1, "the SDK signed in again instead of refreshing")

    async def unauthenticated_challenge() -> None:
        async with httpx2.AsyncClient(timeout=30) as raw:
            r = await raw.post(args.url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                               headers={"accept": "application/json, text/event-stream"})
            challenge = r.headers.get("www-authenticate", "")
            expect(r.status_code == 401, f"without credentials: HTTP {r.status_code}")
            expect('resource_metadata="http://127.0.0.1:' in challenge, f"challenge without an absolute metadata URL: {challenge}")

    try:
        await run_check(CLIENT, "challenge-401-with-absolute-resource-metadata", unauthenticated_challenge)
        if await run_check(CLIENT, "discovery-dcr-sign-in-form-token-tools-list", sign_in_and_list, timeout=60):
            await run_check(CLIENT, "tools-call-carries-the-pasted-key", call_with_pasted_key, timeout=60)
            await run_check(CLIENT, "refresh-rotates-without-a-new-sign-in", refresh, timeout=60)
        else:
            for check in ("tools-call-carries-the-pasted-key", "refresh-rotates-without-a-new-sign-in"):
                report(CLIENT, check, False, "not run: the sign-in failed")
    finally:
        await http.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    anyio.run(cmd_oauth, args)
    import python_checks

    return 1 if python_checks._failures else 0


if __name__ == "__main__":
    sys.exit(main())
