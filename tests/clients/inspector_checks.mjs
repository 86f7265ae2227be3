// Checks of digistore24-mcp through the MCP Inspector CLI (`@modelcontextprotocol/inspector --cli`):
// tools/list and a tools/call, over Streamable HTTP and over stdio. Run by run.sh with Node 22.
// Every check prints one line: `PASS <client> <check>` or `FAIL <client> <check>: reason`.
//
// usage: node inspector_checks.mjs --url URL --bin BINARY --logdir DIR

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: { url: { type: 'string' }, bin: { type: 'string' }, logdir: { type: 'string' } },
});

const require = createRequire(import.meta.url);
const pkgDir = path.dirname(require.resolve('@modelcontextprotocol/inspector/package.json'));
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const launcher = path.join(pkgDir, pkg.bin['mcp-inspector']);

// Set by run.sh from the binary's own `tools` listing.
const EXPECTED_TOOL_COUNT = Number(process.env.DS24_EXPECTED_TOOLS);
if (!Number.isInteger(EXPECTED_TOOL_COUNT) || EXPECTED_TOOL_COUNT < 1) throw new Error('DS24_EXPECTED_TOOLS is not set (run.sh sets it)');
const MUST_HAVE_TOOLS = ['listPurchases', 'refundPurchase', 'listProducts', 'getUserInfo'];
let failures = 0;

// The Inspector keeps a catalog and secrets under $HOME; give it a private, throw-away home.
const home = path.join(opts.logdir, 'inspector-home');
fs.mkdirSync(home, { recursive: true });
const env = { ...process.env, HOME: home, MCP_CATALOG_PATH: path.join(home, 'mcp.json'), NO_COLOR: '1' };

function report(client, check, ok, reason = '') {
  if (ok) return console.log(`PASS ${client} ${check}`);
  failures += 1;
  const text = String(reason).split(/\s+/).join(' ').trim();
  console.log(`FAIL ${client} ${check}: ${text.length > 400 ? `${text.slice(0, 400)}...` : text}`);
}

function inspector(args, logName) {
  const res = spawnSync(process.execPath, [launcher, '--cli', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  fs.writeFileSync(
    path.join(opts.logdir, `${logName}.log`),
    `$ inspector --cli ${args.join(' ')}\nexit: ${res.status} signal: ${res.signal}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}\n`,
  );
  let json;
  try {
    json = JSON.parse(res.stdout);
  } catch {
    json = undefined;
  }
  return { status: res.status, signal: res.signal, json, stdout: res.stdout ?? '', stderr: res.stderr ?? '', error: res.error };
}

function outcome(r) {
  if (r.error) return `could not run the Inspector: ${r.error.message}`;
  const tail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ');
  return `exit ${r.status ?? r.signal}: ${tail.slice(0, 300)}`;
}

function checkList(r) {
  if (r.status !== 0 || !r.json) return outcome(r);
  const names = (r.json.tools ?? []).map((t) => t.name);
  const missing = MUST_HAVE_TOOLS.filter((n) => !names.includes(n));
  if (missing.length) return `missing tools ${JSON.stringify(missing)}`;
  // The CLI prints one page; when the server paginates, check the page carries a cursor.
  if (names.length !== EXPECTED_TOOL_COUNT && !r.json.nextCursor) return `expected ${EXPECTED_TOOL_COUNT} tools, got ${names.length}`;
  return null;
}

function checkCall(r) {
  if (r.status !== 0 || !r.json) return outcome(r);
  if (r.json.isError) return `listProducts returned isError: ${JSON.stringify(r.json.content).slice(0, 200)}`;
  const sc = r.json.structuredContent;
  if (!sc || !Array.isArray(sc.products)) return `structuredContent without a 'products' list: ${JSON.stringify(sc).slice(0, 200)}`;
  return null;
}

const targets = {
  http: [opts.url, '--transport', 'http', '--header', 'Authorization: Bearer sandbox-writable'],
  stdio: ['-e', 'DS24_API_KEY=sandbox-writable', '--transport', 'stdio', '--', opts.bin, 'stdio', '--sandbox'],
};

for (const [kind, target] of Object.entries(targets)) {
  const client = `inspector-cli:${kind}`;
  // Options go before the `--` that ends the stdio command line.
  const withMethod = (extra) => {
    const dashdash = target.indexOf('--');
    return dashdash < 0 ? [...target, ...extra] : [...target.slice(0, dashdash), ...extra, ...target.slice(dashdash)];
  };
  const list = inspector(withMethod(['--method', 'tools/list']), `inspector-${kind}-tools-list`);
  const listErr = checkList(list);
  report(client, 'tools/list', !listErr, listErr);
  const call = inspector(withMethod(['--method', 'tools/call', '--tool-name', 'listProducts']), `inspector-${kind}-tools-call`);
  const callErr = checkCall(call);
  report(client, 'tools/call', !callErr, callErr);
}
process.exitCode = failures ? 1 : 0;
