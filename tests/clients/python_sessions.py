"""Scripted assistant sessions through the official Python MCP SDK.

Run by tests/clients/run.sh (group `python`) against `serve --sandbox`. For
each prompt: get it with prompts/get, make the calls its message tells an
assistant to make (a fixed script, the same as tests/sessions.rs; no LLM),
following every continuation, check the answers hold what the prompt's
question needs, and print the cl100k tokens of all answers with the prompt's
`fields` (and the lists' compact defaults) against the same calls with
`fields: ["*"]`. One `PASS`/`FAIL python-sdk:session <prompt>` line per
prompt, and one `INFO` line with its figures.

Tokens are counted as the Rust test counts them: cl100k with special tokens,
over the text of each result's first content block. The cl100k ranks come
from the tiktoken-rs crate the server is built with (found with `cargo
metadata`, or given with --bpe), so no download is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

import anyio
import httpx2
import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public as openai_public
from mcp import Client

import python_checks
from python_checks import CALL_TIMEOUT, WRITABLE_KEY, describe, dump, expect, http_transport, report, run_check

CLIENT = "python-sdk:session"
# sha256 of cl100k_base.tiktoken, as tiktoken checks it.
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
PROMPTS = ["sales_report", "customer_lookup", "refund_order", "voucher_campaign", "failed_rebills"]
# Calls whose answer tiktoken counts; the reads among them get fields ["*"] for the comparison.
READS = {"listTransactions", "listPurchases", "listPurchasesOfEmail", "getPurchase", "listProducts", "listRebillingStatusChanges"}


def cl100k_ranks_path(root: str) -> str:
    """cl100k_base.tiktoken of the tiktoken-rs crate in the server's dependency tree."""
    host = next(line.split()[1] for line in subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout.splitlines()
                if line.startswith("host:"))
    # Only the host's packages: the tree of every platform would need crates that are never built here.
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--filter-platform", host], cwd=root, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    for package in json.loads(out)["packages"]:
        if package["name"] == "tiktoken-rs":
            return os.path.join(os.path.dirname(package["manifest_path"]), "assets", "cl100k_base.tiktoken")
    raise RuntimeError("tiktoken-rs is not in cargo metadata")


def cl100k(ranks_path: str) -> tiktoken.Encoding:
    """tiktoken's own cl100k_base (pattern, special tokens) with the ranks read from a local file."""
    ranks = tiktoken.load.load_tiktoken_bpe(ranks_path, expected_hash=CL100K_SHA256)
    load = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda *_args, **_kwargs: ranks
    try:
        spec = openai_public.cl100k_base()
    finally:
        openai_public.load_tiktoken_bpe = load
    return tiktoken.Encoding(**spec)


def script(prompt: str, email: str, purchase_id: str) -> list[tuple[str, dict[str, Any]]]:
    """One session's calls in order; `fields` as the prompt asks for them (the same as tests/sessions.rs)."""
    return {
        "sales_report": [
            ("listTransactions", {"from": "-30d", "to": "now"}),
            ("listPurchases", {"from": "-30d", "to": "now", "search": {"order_type": "live"},
                               "fields": ["id", "product_id", "product_name", "amount", "currency", "affiliate_name", "created_at"]}),
        ],
        "customer_lookup": [
            ("listPurchasesOfEmail", {"email": email}),
            ("getPurchase", {"purchase_id": purchase_id, "fields": ["id", "created_at", "product_name", "amount", "currency", "billing_status",
                                                                    "refund_status", "next_payment_at", "rebilling_active", "transaction_list"]}),
            ("listTransactions", {"from": "start", "search": {"email": email}}),
        ],
        "refund_order": [
            ("getPurchase", {"purchase_id": purchase_id, "fields": ["id", "created_at", "buyer_email", "amount", "currency", "order_type",
                                                                    "refund_status", "billing_type", "rebilling_active"]}),
            ("refundPurchase", {"purchase_id": purchase_id, "dry_run": True}),
        ],
        "voucher_campaign": [
            ("listProducts", {}),
            ("createVoucher", {"data": {"code": "PYSESSION25", "product_ids": "all", "first_rate": "25"}, "dry_run": True}),
        ],
        "failed_rebills": [
            ("listRebillingStatusChanges", {"from": "-30d"}),
            ("listPurchases", {"from": "start", "search": {"billing_type": "subscription"},
                               "fields": ["id", "buyer_email", "product_name", "amount", "currency", "billing_status", "rebilling_active",
                                          "next_payment_at", "rebill_stop_noted_at"]}),
        ],
    }[prompt]


def first_text(result: Any) -> str:
    blocks = getattr(result, "content", None) or []
    return blocks[0].text if blocks and getattr(blocks[0], "type", None) == "text" else ""


async def run(client: Client, encoding: tiktoken.Encoding, calls: list[tuple[str, dict[str, Any]]], all_fields: bool):
    """Runs the calls, following every continuation; the answers and their tokens."""
    answers: list[dict[str, Any]] = []
    tokens = 0
    for tool, arguments in calls:
        arguments = dict(arguments)
        if all_fields and tool in READS:
            arguments["fields"] = ["*"]
        for _ in range(50):
            result = await client.call_tool(tool, arguments)
            expect(not result.is_error, f"{tool} {dump(arguments)}: {first_text(result)[:200]}")
            tokens += len(encoding.encode(first_text(result), allowed_special="all"))
            data = result.structured_content
            expect(isinstance(data, dict), f"{tool}: no structuredContent object")
            answers.append(data)
            hint = data.get("_truncated") or data.get("_paging") or {}
            following = hint.get("next_arguments")
            if not isinstance(following, dict):
                break
            arguments = following
    return answers, tokens


def check_answers(prompt: str, answers: list[dict[str, Any]], purchase_id: str) -> None:
    """What the prompt's question needs is in the answers (the same checks as tests/sessions.rs)."""
    first = answers[0]
    if prompt == "sales_report":
        expect(isinstance(first.get("summary", {}).get("amounts"), dict), f"totals per currency: {dump(first)}")
        purchases = [p for a in answers[1:] for p in a.get("purchase_list", [])]
        expect(purchases and all(p.get("amount") and p.get("currency") and p.get("product_name") for p in purchases),
               f"sales with amount, currency and product: {dump(purchases[:2])}")
    elif prompt == "customer_lookup":
        expect(purchase_id in json.dumps(first), f"the customer's orders include {purchase_id}: {dump(first)}")
        expect(answers[1].get("id") == purchase_id, f"getPurchase answered {dump(answers[1])}")
        expect(isinstance(answers[1].get("transaction_list"), list), "payments and refunds of the order")
    elif prompt == "refund_order":
        expect(isinstance(first.get("amount"), str) and isinstance(first.get("currency"), str), f"amount with currency: {dump(first)}")
        expect(answers[1].get("sent") is False, f"a dry run sends nothing: {dump(answers[1])}")
    elif prompt == "voucher_campaign":
        expect(isinstance(first["products"][0].get("is_active"), str), f"which products are active: {dump(first)}")
        expect(answers[1].get("dry_run") is True, f"createVoucher dry run: {dump(answers[1])}")
    elif prompt == "failed_rebills":
        purchases = [p for a in answers[1:] for p in a.get("purchase_list", [])]
        stopped = [p for p in purchases if p.get("billing_status") == "aborted" or p.get("rebilling_active") == "N"]
        expect(stopped, f"stopped rebills found among {len(purchases)} subscriptions")


async def cmd_sessions(args: argparse.Namespace) -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        encoding = cl100k(args.bpe or cl100k_ranks_path(root))
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        report(CLIENT, "tokenizer", False, f"cl100k ranks not loaded: {exc}")
        return
    opened: list[httpx2.AsyncClient] = []
    transport, http_client = http_transport(args.url, WRITABLE_KEY)
    opened.append(http_client)
    try:
        async with Client(transport, mode="auto", read_timeout_seconds=CALL_TIMEOUT) as client:
            recent = await client.call_tool("listPurchases", {"from": "-90d", "search": {"order_type": "live", "billing_type": "single_payment"}})
            orders = [p for p in (recent.structured_content or {}).get("purchase_list", []) if p.get("refund_status") != "refunded"]
            if not orders:
                report(CLIENT, "sample-order", False, f"no unrefunded live order in the last 90 days: {first_text(recent)[:200]}")
                return
            email, purchase_id = orders[0]["buyer_email"], orders[0]["id"]
            for prompt in PROMPTS:

                async def session(prompt: str = prompt) -> None:
                    calls = script(prompt, email, purchase_id)
                    given = {"email": email, "purchase_id": purchase_id, "code": "PYSESSION25", "discount": "25"}
                    wanted = {a.name: given[a.name] for a in next(p for p in (await client.list_prompts()).prompts if p.name == prompt).arguments or []
                              if a.name in given}
                    text = (await client.get_prompt(prompt, wanted)).messages[0].content.text
                    missing = [tool for tool, _ in calls if tool not in text]
                    expect(not missing, f"the prompt does not name {missing}: {text[:200]!r}")
                    everything, before = await run(client, encoding, calls, all_fields=True)
                    answers, after = await run(client, encoding, calls, all_fields=False)
                    check_answers(prompt, answers, purchase_id)
                    expect(after < before, f"fields make the answers smaller: {after} tokens against {before}")
                    expect(len(answers) <= len(everything), f"no more answers than without fields: {len(answers)} > {len(everything)}")
                    print(f"INFO {CLIENT} {prompt}: {len(calls)} calls ({len(answers)} answers), {before} tokens with fields [\"*\"], "
                          f"{after} tokens as the prompt asks ({after / before:.2f})", flush=True)

                await run_check(CLIENT, prompt, session, timeout=4 * CALL_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        report(CLIENT, "connect", False, describe(exc))
    finally:
        for c in opened:
            await c.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--bpe", help="path of cl100k_base.tiktoken (default: the tiktoken-rs crate's, via cargo metadata)")
    args = parser.parse_args()
    anyio.run(cmd_sessions, args)
    return 1 if python_checks._failures else 0


if __name__ == "__main__":
    sys.exit(main())
