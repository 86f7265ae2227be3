// Checks of digistore24-mcp through the official TypeScript MCP SDKs:
// `@modelcontextprotocol/sdk` (v1) and `@modelcontextprotocol/client` (v2),
// over Streamable HTTP and stdio. Run by tests/clients/run.sh with Node 22.
// Every check prints one line: `PASS <client> <check>` or `FAIL <client> <check>: reason`.
//
// usage: node ts_checks.mjs --url URL --bin BINARY --logdir DIR [--only v1|v2] [--transports http,stdio]

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport as StdioV1, getDefaultEnvironment as defaultEnvV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2, getDefaultEnvironment as defaultEnvV2 } from '@modelcontextprotocol/client/stdio';

const WRITABLE_KEY = 'sandbox-writable';
const READONLY_KEY = 'sandbox-readonly';
// Set by run.sh from the binary's own `tools` listing.
const EXPECTED_TOOL_COUNT = Number(process.env.DS24_EXPECTED_TOOLS);
if (!Number.isInteger(EXPECTED_TOOL_COUNT) || EXPECTED_TOOL_COUNT < 1) throw new Error('DS24_EXPECTED_TOOLS is not set (run.sh sets it)');
const MUST_HAVE_TOOLS = ['listPurchases', 'refundPurchase', 'listProducts', 'getUserInfo', 'getPurchase', 'createVoucher'];
const LATEST_LEGACY = '2025-11-25';
const MODERN = '2026-07-28';
const CALL_TIMEOUT_MS = 30_000;
const CHECKS = [
  'connect',
  'tools/list',
  'call-read-tool',
  'bad-args-missing',
  'bad-args-unknown',
  'write-writable-key',
  'resources',
  'prompts',
  'completion',
  'close',
];

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    bin: { type: 'string' },
    logdir: { type: 'string' },
    only: { type: 'string' },
    transports: { type: 'string', default: 'http,stdio' },
  },
});

let failures = 0;

function report(client, check, ok, reason = '') {
  if (ok) {
    console.log(`PASS ${client} ${check}`);
    return;
  }
  failures += 1;
  let text = String(reason).split(/\s+/).join(' ').trim() || 'failed';
  if (text.length > 400) text = `${text.slice(0, 400)}...`;
  console.log(`FAIL ${client} ${check}: ${text}`);
}

class CheckFailed extends Error {}

function expect(cond, reason) {
  if (!cond) throw new CheckFailed(reason);
}

function describe(err) {
  if (err instanceof CheckFailed) return err.message;
  const name = err?.constructor?.name ?? 'Error';
  const code = err?.code !== undefined ? ` (code ${err.code})` : '';
  const cause = err?.cause ? ` caused by ${err.cause?.message ?? err.cause}` : '';
  return `${name}${code}: ${err?.message ?? String(err)}${cause}`;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`${what} timed out after ${ms / 1000}s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The HTTP server's log (set by run.sh): on failure, print what it logged while the check ran.
const SERVER_LOG = process.env.DS24_SERVER_LOG;
const logOffset = (client) => {
  if (!SERVER_LOG || client.includes(':stdio')) return undefined;
  try {
    return fs.statSync(SERVER_LOG).size;
  } catch {
    return undefined;
  }
};
async function printLogExcerpt(offset) {
  if (offset === undefined) return;
  await new Promise((r) => setTimeout(r, 100)); // let the server finish writing
  const data = fs.readFileSync(SERVER_LOG);
  const split = (buf) => buf.toString('utf8').split('\n').filter((l) => l !== '');
  const lines = [...split(data.subarray(0, offset)).map((l) => `  ${l}`), ...split(data.subarray(offset)).map((l) => `> ${l}`)];
  console.log(`    | last ${Math.min(40, lines.length)} lines of ${path.basename(SERVER_LOG)} ('>': logged during this check):`);
  for (const line of lines.slice(-40)) console.log(`    | ${line.slice(0, 300)}`);
}

async function runCheck(client, check, fn, ms = CALL_TIMEOUT_MS) {
  const offset = logOffset(client);
  try {
    await withTimeout(Promise.resolve().then(fn), ms, check);
    report(client, check, true);
    return true;
  } catch (err) {
    if (process.env.DS24_CLIENTS_DEBUG) console.error(err);
    report(client, check, false, describe(err));
    await printLogExcerpt(offset);
    return false;
  }
}

const dump = (v, n = 200) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > n ? `${s.slice(0, n)}...` : s;
};
const textOf = (result) => (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join(' ');

// ── the SDK-specific bits ──

const SDKS = {
  v1: {
    name: 'ts-sdk-v1',
    modes: ['legacy'], // v1 only speaks the initialize handshake
    makeClient: () => new ClientV1({ name: 'ds24-harness-ts-v1', version: '1.0.0' }),
    http: (url, key) => new HttpV1(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }),
    stdio: (bin, key, stderr) =>
      new StdioV1({ command: bin, args: ['stdio', '--sandbox'], env: { ...defaultEnvV1(), DS24_API_KEY: key, NO_COLOR: '1' }, stderr }),
    async listAll(client) {
      const tools = [];
      let cursor;
      for (let i = 0; i < 50; i += 1) {
        const page = await client.listTools(cursor ? { cursor } : undefined);
        tools.push(...page.tools);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      return tools;
    },
  },
  v2: {
    name: 'ts-sdk-v2',
    modes: ['legacy', 'auto', MODERN],
    makeClient: (mode) =>
      new ClientV2(
        { name: 'ds24-harness-ts-v2', version: '1.0.0' },
        mode === 'legacy' ? {} : { versionNegotiation: { mode: mode === 'auto' ? 'auto' : { pin: mode } } },
      ),
    http: (url, key) => new HttpV2(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }),
    stdio: (bin, key, stderr) =>
      new StdioV2({ command: bin, args: ['stdio', '--sandbox'], env: { ...defaultEnvV2(), DS24_API_KEY: key, NO_COLOR: '1' }, stderr }),
    async listAll(client) {
      // v2 walks every page itself when called without a cursor.
      return (await client.listTools()).tools;
    },
  },
};

async function connect(sdk, mode, transportKind, key, logFd) {
  const client = sdk.makeClient(mode);
  const transport = transportKind === 'http' ? sdk.http(opts.url, key) : sdk.stdio(opts.bin, key, logFd);
  let negotiated;
  if (sdk === SDKS.v1) {
    // v1 has no getter for the negotiated version; it hands it to the transport after initialize.
    const original = transport.setProtocolVersion?.bind(transport);
    transport.setProtocolVersion = (v) => {
      negotiated = v;
      original?.(v);
    };
  }
  await withTimeout(client.connect(transport), CALL_TIMEOUT_MS, 'connect');
  const version = sdk === SDKS.v1 ? negotiated : client.getNegotiatedProtocolVersion();
  return { client, version };
}

async function checkToolList(sdk, client) {
  const tools = await sdk.listAll(client);
  const names = tools.map((t) => t.name);
  const missing = MUST_HAVE_TOOLS.filter((n) => !names.includes(n));
  expect(missing.length === 0, `missing tools ${dump(missing)}`);
  expect(new Set(names).size === names.length, 'duplicate tool names');
  expect(names.length === EXPECTED_TOOL_COUNT, `expected ${EXPECTED_TOOL_COUNT} tools, got ${names.length}`);
  const badSchema = tools.filter((t) => t.inputSchema?.type !== 'object').map((t) => t.name);
  expect(badSchema.length === 0, `tools without an object inputSchema: ${dump(badSchema.slice(0, 5))}`);
  const schema = tools.find((t) => t.name === 'getPurchase').inputSchema;
  expect((schema.required ?? []).includes('purchase_id'), `getPurchase does not require purchase_id: ${dump(schema)}`);
}

async function checkReadTool(client) {
  const result = await client.callTool({ name: 'listProducts', arguments: {} });
  expect(!result.isError, `listProducts returned isError: ${textOf(result).slice(0, 200)}`);
  const sc = result.structuredContent;
  expect(sc && typeof sc === 'object' && !Array.isArray(sc), `no structuredContent object: ${dump(sc)}`);
  expect('products' in sc, `structuredContent has no 'products' key: keys=${dump(Object.keys(sc).slice(0, 10))}`);
  expect(Array.isArray(sc.products), `'products' is not a list: ${dump(sc.products)}`);
  expect(textOf(result).trim() !== '', 'no text content next to structuredContent');
}

async function checkBadArgs(client, args) {
  const result = await client.callTool({ name: 'getPurchase', arguments: args });
  expect(result.isError === true, `getPurchase ${JSON.stringify(args)} did not return isError: true (got ${dump(result)})`);
  expect(textOf(result).trim() !== '', 'error result has no text explaining the error');
}

async function checkWrite(client, code, wantError) {
  // Complete, valid arguments, so that only the key decides the outcome.
  const result = await client.callTool({ name: 'createVoucher', arguments: { data: { code, first_rate: '10' } } });
  if (wantError) {
    expect(result.isError === true, `createVoucher with the read-only key did not return isError: true (got ${dump(result)})`);
    expect(/read|permission|access|forbidden|not allowed/i.test(textOf(result)), `the error does not say it is about the key's rights: ${dump(textOf(result))}`);
  } else {
    expect(!result.isError, `createVoucher with the writable key returned isError: ${textOf(result).slice(0, 200)}`);
  }
}

async function checkResources(client) {
  const uris = (await client.listResources()).resources.map((r) => r.uri);
  expect(uris.includes('digistore24://account') && uris.includes('digistore24://products'), `resources/list: ${dump(uris)}`);
  const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
  expect(templates.includes('digistore24://purchases/{purchase_id}'), `resources/templates/list: ${dump(templates)}`);
  const read = async (uri) => (await client.readResource({ uri })).contents[0].text;
  const account = JSON.parse(await read('digistore24://account'));
  expect(account.getUserInfo?.api_key_permissions === 'writable', `digistore24://account: ${dump(account)}`);
  const products = JSON.parse(await read('digistore24://products'));
  const id = products.products[0].id;
  const product = JSON.parse(await read(`digistore24://products/${id}`));
  expect(product.product?.id === id, `template read of product ${id}: ${dump(product)}`);
  expect((await read('digistore24://guide/amounts')).includes('currency'), 'guide/amounts');
}

async function checkPrompts(client) {
  const names = (await client.listPrompts()).prompts.map((p) => p.name);
  expect(names.length >= 5 && names.includes('refund_order'), `prompts/list: ${dump(names)}`);
  const got = await client.getPrompt({ name: 'refund_order', arguments: { purchase_id: 'ABC12DEF' } });
  const text = got.messages[0].content.text;
  expect(text.includes('getPurchase') && text.includes('dry_run') && text.includes('ABC12DEF'), `prompts/get: ${dump(text)}`);
}

async function checkCompletion(client) {
  const topics = await client.complete({ ref: { type: 'ref/resource', uri: 'digistore24://guide/{topic}' }, argument: { name: 'topic', value: 'pa' } });
  expect(JSON.stringify(topics.completion.values) === '["paging"]', `topic completion: ${dump(topics.completion)}`);
  const emails = await client.complete({ ref: { type: 'ref/prompt', name: 'customer_lookup' }, argument: { name: 'email', value: 'paul' } });
  const values = emails.completion.values;
  expect(values.length > 0 && values.length <= 100 && values.every((v) => v.startsWith('paul')), `e-mail completion: ${dump(values)}`);
}

async function runClient(sdk, transportKind, mode) {
  const clientName = `${sdk.name}:${transportKind}:${mode}`;
  const code = `TS${sdk.name}${transportKind}${mode}`.toUpperCase().replace(/[^A-Z0-9]/g, '');
  const expectedVersion = mode === 'legacy' ? LATEST_LEGACY : MODERN;
  const logFd = transportKind === 'stdio' ? fs.openSync(path.join(opts.logdir, `stdio-${sdk.name}-${mode}.log`), 'a') : undefined;
  try {
    let conn;
    const offset = logOffset(clientName);
    try {
      conn = await connect(sdk, mode, transportKind, WRITABLE_KEY, logFd);
    } catch (err) {
      report(clientName, 'connect', false, describe(err));
      await printLogExcerpt(offset);
      for (const check of CHECKS.slice(1)) report(clientName, check, false, 'not run: connect failed');
    }
    if (conn) {
      const { client, version } = conn;
      await runCheck(clientName, 'connect', () => {
        expect(version === expectedVersion, `negotiated protocol ${dump(version)}, expected ${dump(expectedVersion)}`);
        expect(client.getServerCapabilities()?.tools !== undefined, 'server does not advertise the tools capability');
      });
      await runCheck(clientName, 'tools/list', () => checkToolList(sdk, client));
      await runCheck(clientName, 'call-read-tool', () => checkReadTool(client));
      await runCheck(clientName, 'bad-args-missing', () => checkBadArgs(client, {}));
      await runCheck(clientName, 'bad-args-unknown', () => checkBadArgs(client, { purchase_id: 5, bogus: 1 }));
      await runCheck(clientName, 'write-writable-key', () => checkWrite(client, code, false));
      await runCheck(clientName, 'resources', () => checkResources(client));
      await runCheck(clientName, 'prompts', () => checkPrompts(client));
      await runCheck(clientName, 'completion', () => checkCompletion(client));
      await runCheck(clientName, 'close', () => client.close(), 10_000);
    }
    await runCheck(
      clientName,
      'write-readonly-key',
      async () => {
        const { client } = await connect(sdk, mode, transportKind, READONLY_KEY, logFd);
        try {
          const read = await client.callTool({ name: 'listProducts', arguments: {} });
          expect(!read.isError, `read with the read-only key failed: ${textOf(read).slice(0, 200)}`);
          await checkWrite(client, `${code}RO`, true);
        } finally {
          await client.close().catch(() => {});
        }
      },
      2 * CALL_TIMEOUT_MS,
    );
  } finally {
    if (logFd !== undefined) fs.closeSync(logFd);
  }
}

const sdks = opts.only ? [SDKS[opts.only]] : [SDKS.v1, SDKS.v2];
fs.mkdirSync(opts.logdir, { recursive: true });
for (const sdk of sdks) {
  for (const transportKind of opts.transports.split(',')) {
    for (const mode of sdk.modes) {
      await runClient(sdk, transportKind, mode);
    }
  }
}
process.exitCode = failures ? 1 : 0;
