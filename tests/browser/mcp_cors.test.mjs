// A real browser page talks to /mcp across origins (CORS), with the official TypeScript
// MCP SDK client bundled for the browser.
//
//   allowed   http://app.test:P1  (the server runs with --allowed-origin http://app.test:P1)
//   loopback  http://127.0.0.1:P2 (loopback origins are allowed by default)
//   refused   http://evil.test:P3 (in no allow-list: the preflight gets 403, the page fails)
//
// Each page lists the tools and calls listProducts on the sandbox; screenshots go to
// .cache/artifacts/browser/.

import path from 'node:path';
import { HERE, bundle, check, expect, finish, launchBrowser, screenshot, servePage, startServer } from './lib.mjs';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>digistore24-mcp from a browser page</title>
<style>
  body { font: 15px system-ui, sans-serif; margin: 24px; }
  body.ok #status { color: #0a0; } body.failed #status { color: #c00; }
  dt { font-weight: 600; margin-top: 8px; }
</style></head>
<body>
<h1>MCP over Streamable HTTP from a web page</h1>
<dl>
  <dt>page origin</dt><dd id="origin"></dd>
  <dt>server</dt><dd id="server"></dd>
  <dt>tools/list</dt><dd id="tools">–</dd>
  <dt>listProducts</dt><dd id="products">–</dd>
  <dt>status</dt><dd id="status">running…</dd>
</dl>
<script src="/mcp_client.js"></script>
</body></html>`;

let server;
let context;
const pages = {};

await check('setup: bundle the SDK page, serve three origins, start the server', async () => {
  const script = await bundle(path.join(HERE, 'pages/mcp_client.js'));
  const files = { '/': { type: 'text/html; charset=utf-8', body: PAGE }, '/mcp_client.js': { type: 'text/javascript', body: script } };
  const [allowed, loopback, refused] = [await servePage(files), await servePage(files), await servePage(files)];
  pages.allowed = `http://app.test:${allowed}`;
  pages.loopback = `http://127.0.0.1:${loopback}`;
  pages.refused = `http://evil.test:${refused}`;
  server = await startServer('cors', ['--allowed-origin', pages.allowed]);
  context = await launchBrowser();
});

/** Opens the page of `origin` against the server and returns what it reports. */
async function runPage(name, origin) {
  const page = await context.newPage();
  const preflights = [];
  page.on('requestfinished', async (request) => {
    if (request.method() === 'OPTIONS') preflights.push((await request.response())?.status());
  });
  page.on('requestfailed', (request) => {
    if (request.method() === 'OPTIONS' || request.url().startsWith(server.url)) preflights.push(`failed ${request.failure()?.errorText}`);
  });
  await page.goto(`${origin}/?mcp=${encodeURIComponent(server.url)}`);
  await page.waitForFunction(() => window.__mcpResult, null, { timeout: 30_000 });
  const result = await page.evaluate(() => window.__mcpResult);
  const shot = await screenshot(page, `mcp-cors-${name}`);
  await page.close();
  return { ...result, shot, preflights };
}

for (const name of ['allowed', 'loopback']) {
  await check(`page from the ${name} origin lists the tools and calls listProducts`, async () => {
    expect(context, 'setup failed');
    const result = await runPage(name, pages[name]);
    expect(result.ok, `the page failed: ${result.error} (preflights: ${result.preflights.join(', ')})`);
    expect(result.origin === pages[name], `page origin ${result.origin}`);
    const expected = Number(process.env.DS24_EXPECTED_TOOLS);
    expect(result.tools === expected, `expected ${expected} tools, got ${result.tools}`);
    expect(result.products > 0, `listProducts returned ${result.products} products`);
  });
}

await check('page from an origin outside the allow-list is refused (preflight 403) and says so', async () => {
  expect(context, 'setup failed');
  const result = await runPage('refused', pages.refused);
  expect(!result.ok, 'the refused origin connected');
  expect(result.tools === 0, `the refused origin listed ${result.tools} tools`);
  expect(/fetch|network|cors/i.test(result.error || ''), `expected a fetch/CORS failure, got ${result.error}`);
  // What the browser was told: the server refuses the preflight itself.
  const preflight = await fetch(server.url, {
    method: 'OPTIONS',
    headers: { origin: pages.refused, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  expect(preflight.status === 403, `preflight from ${pages.refused}: HTTP ${preflight.status}`);
  expect(!preflight.headers.has('access-control-allow-origin'), 'a refused preflight must not allow the origin');
});

await finish();
