// The usage dashboard in a real browser, against `serve --sandbox --operator-token …`.
//
// The test makes a known mix of tool calls through /mcp as the read-only sandbox key's tenant:
// 37 listProducts, 5 createVoucher (refused upstream: the key has read access only) and
// 3 listPurchases that fail through the sandbox's fault injection (error envelopes, which are
// not retried); a second tenant (an extra sandbox key) makes 4 listProducts. Then it signs in on
// the real page by keyboard and checks that the page shows exactly those numbers (the cards'
// data-metric values, the table's cells, one chart bar per hour whose data-calls add up), that
// the second tenant's calls are not in them, the German page and the language switch, a phone-
// sized viewport without sideways scrolling, the period select by keyboard, sign-out, the
// operator page (its sign-in form and both tenants by tenant id, never a key), the empty state,
// and no CSP violations anywhere. Screenshots: .cache/artifacts/browser/dashboard-*.png.
//
// The numbers need the usage recorder (usage rows written by the server for every call); the
// checks named "(recorded usage)" fail on a server that records nothing.

import crypto from 'node:crypto';
import fs from 'node:fs';
import { check, expect, finish, launchBrowser, screenshot, startServer } from './lib.mjs';

const OPERATOR_TOKEN = 'operator-token-browser-0123456789';
const KEY = 'sandbox-readonly';
const OTHER_KEY = 'sandbox-dash-other';
const tenantOf = (key) => crypto.createHash('sha256').update(key).digest('hex').slice(0, 16);

let server;
let sandboxBase;
let context;
let page;
let operatorHtml = '';

/** A page that records CSP violations and uses `lang` for Accept-Language. */
async function newPage(lang = 'en-US,en;q=0.9') {
  const p = await context.newPage();
  await p.setExtraHTTPHeaders({ 'Accept-Language': lang });
  p.cspViolations = [];
  p.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) p.cspViolations.push(message.text());
  });
  return p;
}

let nextId = 1;
/** One tools/call over stateless HTTP with `key`; returns the JSON-RPC result. */
async function callTool(key, name, args = {}) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${key}`,
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args } }),
  });
  expect(response.status === 200, `${name}: HTTP ${response.status}`);
  const body = await response.json();
  expect(body.result, `${name}: ${JSON.stringify(body).slice(0, 200)}`);
  return body.result;
}

const metric = async (p, name) => (await p.textContent(`[data-metric="${name}"] > dd`))?.trim();
const cell = async (p, tool, col) => (await p.textContent(`tr[data-tool="${tool}"] [data-col="${col}"]`))?.trim();

async function signIn(p, key) {
  await p.goto(`${server.base}/dashboard`);
  expect(new URL(p.url()).pathname === '/dashboard/sign-in', `without a session /dashboard leads to the sign-in, at ${p.url()}`);
  await p.focus('#api_key');
  await p.keyboard.type(key);
  await Promise.all([p.waitForURL((url) => url.pathname === '/dashboard'), p.keyboard.press('Enter')]);
}

/** Reloads until the cards show `calls` (the recorder writes in batches), at most ~10 s. */
async function waitForCalls(p, calls) {
  let shown;
  for (let i = 0; i < 40; i += 1) {
    await p.reload();
    shown = (await p.$('[data-metric="calls"]')) ? await metric(p, 'calls') : '0 (empty state)';
    if (shown === String(calls)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the page shows ${shown} calls, expected ${calls}`);
}

await check('setup: server with --operator-token and a second tenant, the browser', async () => {
  server = await startServer('dashboard', ['--operator-token', OPERATOR_TOKEN, '--sandbox-extra-key', OTHER_KEY]);
  const log = fs.readFileSync(server.log, 'utf8');
  const found = log.match(/sandbox Digistore24 at (http:\/\/[^\s]+)\/api\/call/);
  expect(found, 'the server log names the sandbox URL');
  sandboxBase = found[1];
  context = await launchBrowser();
});

await check('sign-in with the keyboard; the session cookie is HttpOnly, SameSite=Lax and holds no key; empty state before any call', async () => {
  expect(context, 'setup failed');
  page = await newPage();
  await signIn(page, KEY);
  const cookies = await context.cookies(server.base);
  const session = cookies.find((c) => c.name === 'ds24dash_session');
  expect(session, `a session cookie: ${cookies.map((c) => c.name)}`);
  expect(session.httpOnly && session.sameSite === 'Lax' && session.path === '/', `attributes: ${JSON.stringify(session)}`);
  expect(!session.value.includes(KEY) && !session.value.includes('readonly'), 'the cookie holds no key text');
  expect(await page.isVisible('#empty-state'), 'no calls yet: the friendly empty state');
  expect(!(await page.$('svg#calls-chart')), 'no empty chart');
  expect((await page.textContent('#tenant')).trim() === tenantOf(KEY), 'the tenant id of the key is shown');
  await screenshot(page, 'dashboard-empty');
});

await check('a known mix of calls through /mcp: 37 reads, 5 refused writes, 3 upstream faults; 4 calls of another tenant', async () => {
  expect(server, 'setup failed');
  for (let i = 0; i < 37; i += 1) {
    const result = await callTool(KEY, 'listProducts');
    expect(!result.isError, `listProducts ${i}: ${JSON.stringify(result).slice(0, 200)}`);
  }
  for (let i = 0; i < 5; i += 1) {
    const result = await callTool(KEY, 'createVoucher', { data: { code: `DASH${i}`, first_rate: 10 } });
    expect(result.isError && /read access/.test(result.content[0].text), `createVoucher ${i} refused: ${result.content[0].text}`);
  }
  const armed = await fetch(`${sandboxBase}/sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'error_envelope', function: 'listPurchases', count: 3 }),
  });
  expect(armed.ok, `arming faults: ${armed.status}`);
  for (let i = 0; i < 3; i += 1) {
    const result = await callTool(KEY, 'listPurchases');
    expect(result.isError, `listPurchases ${i} fails by the fault: ${JSON.stringify(result).slice(0, 200)}`);
  }
  for (let i = 0; i < 4; i += 1) expect(!(await callTool(OTHER_KEY, 'listProducts')).isError, 'the other tenant reads');
});

await check('(recorded usage) the page shows exactly those numbers, one bar per hour, not the other tenant\'s calls', async () => {
  expect(page, 'sign-in failed');
  await waitForCalls(page, 45);
  expect(await metric(page, 'errors') === '8', `errors: ${await metric(page, 'errors')}`);
  expect(await cell(page, 'listProducts', 'calls') === '37' && await cell(page, 'listProducts', 'errors') === '0', 'listProducts: 37 calls, 0 errors');
  expect(await cell(page, 'createVoucher', 'calls') === '5' && await cell(page, 'createVoucher', 'errors') === '5', 'createVoucher: 5 refused');
  expect(await cell(page, 'listPurchases', 'calls') === '3' && await cell(page, 'listPurchases', 'errors') === '3', 'listPurchases: 3 faults');
  expect((await page.$$('tr[data-tool]')).length === 3, 'three tools, none of the other tenant');
  const bars = await page.$$eval('#calls-chart g.bar', (gs) => gs.map((g) => Number(g.dataset.calls)));
  expect(bars.length === 24, `24 hourly bars, got ${bars.length}`);
  expect(bars.reduce((a, b) => a + b, 0) === 45, `the bars add up to 45: ${bars}`);
  expect((await page.$$('#recent tbody tr')).length === 45, 'the last calls list all 45');
  await screenshot(page, 'dashboard-customer');
});

await check('(recorded usage) the table sorts server-side by a header link; the CSV has the header', async () => {
  expect(page, 'sign-in failed');
  await Promise.all([page.waitForURL(/sort=errors/), page.click('a[data-sort="errors"]')]);
  expect(await page.getAttribute('th[aria-sort="descending"] a', 'data-sort') === 'errors', 'the sorted column is marked');
  // The page's CSP allows no fetch (connect-src falls back to 'none'): download with the context's cookies.
  const csv = await (await page.request.get(new URL(await page.getAttribute('#csv', 'href'), page.url()).href)).text();
  expect(csv.startsWith('tool,calls,errors,'), `CSV: ${csv.slice(0, 80)}`);
});

await check('the period select works by keyboard (7 days: 7 bars or the empty state)', async () => {
  expect(page, 'sign-in failed');
  await page.focus('#period');
  await Promise.all([page.waitForURL(/period=7d/), page.selectOption('#period', '7d')]);
  const bars = await page.$$('#calls-chart g.bar');
  expect(bars.length === 7 || (await page.isVisible('#empty-state')), `7 daily bars, got ${bars.length}`);
});

await check('German by the language switch; a phone-sized viewport does not scroll sideways', async () => {
  expect(page, 'sign-in failed');
  await Promise.all([page.waitForURL(/lang=de/), page.click('#other-lang')]);
  expect(await page.getAttribute('html', 'lang') === 'de', 'html lang=de');
  expect(/Nutzungs-Dashboard/.test(await page.textContent('h1')), 'German title');
  await screenshot(page, 'dashboard-german');
  const phone = await newPage('de-DE,de;q=0.9');
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(`${server.base}/dashboard`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 1, `the page is ${overflow}px wider than the phone`);
  await screenshot(phone, 'dashboard-phone');
  expect(phone.cspViolations.length === 0, `CSP violations: ${phone.cspViolations}`);
  await phone.close();
});

await check('sign-out by keyboard ends the session', async () => {
  expect(page, 'sign-in failed');
  await page.focus('#sign-out');
  await Promise.all([page.waitForURL(/\/dashboard\/sign-in/), page.keyboard.press('Enter')]);
  const cookies = await context.cookies(server.base);
  expect(!cookies.some((c) => c.name === 'ds24dash_session'), 'the session cookie is gone');
  await page.goto(`${server.base}/dashboard`);
  expect(new URL(page.url()).pathname === '/dashboard/sign-in', 'the dashboard asks to sign in again');
  expect(page.cspViolations.length === 0, `CSP violations: ${page.cspViolations}`);
  await screenshot(page, 'dashboard-sign-in');
});

await check('(recorded usage) the second tenant sees only their own 4 calls', async () => {
  expect(page, 'sign-in failed');
  await signIn(page, OTHER_KEY);
  await waitForCalls(page, 4);
  expect((await page.$$('tr[data-tool]')).length === 1 && await cell(page, 'listProducts', 'calls') === '4', 'only their listProducts');
  await Promise.all([page.waitForURL(/sign-in/), page.click('#sign-out')]);
});

await check('operator page: the token form, then every tenant by tenant id and never a key', async () => {
  expect(context, 'setup failed');
  const op = await newPage();
  const response = await op.goto(`${server.base}/dashboard/operator`);
  expect(response.status() === 401, `without the token: ${response.status()}`);
  await op.fill('#token', 'not-the-operator-token-000');
  await op.click('#sign-in');
  await op.waitForSelector('#error');
  await op.fill('#token', OPERATOR_TOKEN);
  await Promise.all([op.waitForURL(/\/dashboard\/operator/), op.click('#sign-in')]);
  expect(await op.isVisible('#totals'), 'the operator page');
  const html = await op.content();
  expect(!html.includes(KEY) && !html.includes(OTHER_KEY) && !html.includes(OPERATOR_TOKEN), 'no key and no token on the page');
  expect(op.cspViolations.length === 0, `CSP violations: ${op.cspViolations}`);
  await screenshot(op, 'dashboard-operator');
  operatorHtml = html;
  await op.close();
});

await check('(recorded usage) the operator page lists both tenants with their calls', async () => {
  const html = operatorHtml;
  for (const [key, calls] of [[KEY, 45], [OTHER_KEY, 4]]) {
    const row = html.match(new RegExp(`data-tenant="${tenantOf(key)}".*?data-col="calls">(\\d+)<`));
    expect(row && Number(row[1]) === calls, `tenant ${tenantOf(key)}: ${row?.[1]} calls, expected ${calls}`);
  }
});

await finish();
