// The OAuth sign-in page in a real browser, opened the way claude.ai opens it.
//
// The server runs `serve --sandbox --oauth --public-url http://127.0.0.1:PORT`. The test
// registers a client with claude.ai's callback (DCR), opens /authorize with PKCE, state and
// resource, pastes a wrong key (the error shows on the page), then the sandbox key typed with
// the keyboard and Enter, and the browser follows the redirect to claude.ai's callback with
// code, state and iss (the test reads that request; with no network it goes no further);
// the code is exchanged for a token. Also: the German page, a phone-sized viewport,
// no CSP violations, "Connect with Digistore24" through the sandbox's approval page, and an
// unregistered redirect ending on the error page without leaving.
// Screenshots: .cache/artifacts/browser/oauth-*.png.

import crypto from 'node:crypto';
import { check, expect, finish, launchBrowser, screenshot, startServer } from './lib.mjs';

const CALLBACK = 'https://claude.ai/api/mcp/auth_callback';
let server;
let context;
let clientId;
const verifier = crypto.randomBytes(48).toString('base64url');
const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');

function authorizeUrl(overrides = {}) {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'browser-state-1',
    scope: 'digistore24:read digistore24:write',
    resource: `${server.base}/mcp`,
    ...overrides,
  });
  return `${server.base}/authorize?${params}`;
}

/** A page that records CSP violations. */
async function newPage(lang) {
  const page = await context.newPage();
  await page.setExtraHTTPHeaders({ 'Accept-Language': lang });
  page.cspViolations = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) page.cspViolations.push(message.text());
  });
  return page;
}

await check('setup: server with --oauth, a registered client, the browser', async () => {
  server = await startServer('oauth', ['--oauth', '--public-url', 'http://127.0.0.1:@PORT@']);
  const registered = await fetch(`${server.base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [CALLBACK], client_name: 'Claude', token_endpoint_auth_method: 'none' }),
  });
  expect(registered.status === 201, `registration answered ${registered.status}`);
  clientId = (await registered.json()).client_id;
  context = await launchBrowser();
});

await check('the sign-in page says who asks, where it returns and what access; a wrong key shows the error', async () => {
  expect(context, 'setup failed');
  const page = await newPage('en-US,en;q=0.9');
  const response = await page.goto(authorizeUrl());
  expect(response.status() === 200, `GET /authorize answered ${response.status()}`);
  const headers = response.headers();
  expect(/frame-ancestors 'none'/.test(headers['content-security-policy'] || ''), `CSP: ${headers['content-security-policy']}`);
  expect(headers['referrer-policy'] === 'no-referrer', `Referrer-Policy: ${headers['referrer-policy']}`);
  expect((await page.textContent('#client')).trim() === 'Claude', 'the application name is shown');
  expect((await page.textContent('#return-host')).trim() === 'claude.ai', 'the return host is shown');
  expect(/change/i.test(await page.textContent('#access')), 'the write access is named');
  expect(await page.evaluate(() => document.activeElement?.id) === 'api_key', 'the key field has the focus');
  await screenshot(page, 'oauth-sign-in');
  await page.fill('#api_key', 'sandbox-no-such-key');
  await page.click('#connect');
  await page.waitForSelector('#error');
  expect(/did not accept this API key/.test(await page.textContent('#error')), 'the wrong-key message is shown');
  expect(page.url().startsWith(`${server.base}/authorize`), `stayed on the sign-in page, at ${page.url()}`);
  await screenshot(page, 'oauth-wrong-key');
  // The sandbox key, typed and sent with Enter: keyboard only.
  await page.focus('#api_key');
  await page.keyboard.type('sandbox-writable');
  const [callback] = await Promise.all([
    page.waitForRequest((request) => request.url().startsWith(`${CALLBACK}?`) && request.isNavigationRequest()),
    page.keyboard.press('Enter'),
  ]);
  const landed = new URL(callback.url());
  expect(landed.searchParams.get('state') === 'browser-state-1', `state ${landed.searchParams.get('state')}`);
  expect(landed.searchParams.get('iss') === server.base, `iss ${landed.searchParams.get('iss')}`);
  const code = landed.searchParams.get('code');
  expect(code?.startsWith('ds24mcp_ac_'), `code ${code?.slice(0, 12)}`);
  expect(page.cspViolations.length === 0, `CSP violations: ${page.cspViolations.join(' | ')}`);
  const token = await fetch(`${server.base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: verifier }),
  });
  const tokens = await token.json();
  expect(token.status === 200 && tokens.access_token?.startsWith('ds24mcp_at_'), `token: ${token.status} ${JSON.stringify(tokens).slice(0, 200)}`);
  await page.close();
});

await check('"Connect with Digistore24": approve in the sandbox, come back, land on the callback with a code', async () => {
  expect(context, 'setup failed');
  const page = await newPage('en');
  await page.goto(authorizeUrl({ state: 'browser-state-2' }));
  await Promise.all([page.waitForURL(/\/en\/api\/key\/request\//), page.click('#connect-ds24')]);
  expect(/full access/.test(await page.textContent('#permissions')), 'the approval page names the access');
  await screenshot(page, 'oauth-connect-approval');
  const [callback] = await Promise.all([
    page.waitForRequest((request) => request.url().startsWith(`${CALLBACK}?`) && request.isNavigationRequest()),
    page.click('#approve'),
  ]);
  const landed = new URL(callback.url());
  expect(landed.searchParams.get('state') === 'browser-state-2', `state ${landed.searchParams.get('state')}`);
  expect(landed.searchParams.get('code')?.startsWith('ds24mcp_ac_'), 'a code came back');
  expect(page.cspViolations.length === 0, `CSP violations: ${page.cspViolations.join(' | ')}`);
  await page.close();
});

await check('German by Accept-Language, readable on a phone', async () => {
  expect(context, 'setup failed');
  const page = await newPage('de-DE,de;q=0.9,en;q=0.5');
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto(authorizeUrl({ scope: 'digistore24:read' }));
  expect((await page.textContent('h1')).includes('Digistore24-Konto verbinden'), `h1: ${await page.textContent('h1')}`);
  expect(/lesen/.test(await page.textContent('#access')) && !/ändern/.test(await page.textContent('#access')), 'read access only, in German');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await screenshot(page, 'oauth-sign-in-de-phone');
  expect(page.cspViolations.length === 0, `CSP violations: ${page.cspViolations.join(' | ')}`);
  await page.close();
});

await check('an unregistered redirect ends on the error page, never leaves the server', async () => {
  expect(context, 'setup failed');
  const page = await newPage('en');
  const left = [];
  page.on('request', (request) => { if (!request.url().startsWith(server.base)) left.push(request.url()); });
  const response = await page.goto(authorizeUrl({ redirect_uri: 'https://evil.example/steal' }));
  expect(response.status() === 400, `answered ${response.status()}`);
  expect(page.url().startsWith(`${server.base}/authorize`), `navigated to ${page.url()}`);
  expect(/cannot continue/.test(await page.textContent('h1')), 'the error page is shown');
  expect(left.length === 0, `requests left the server: ${left.join(', ')}`);
  expect((await page.$('form')) === null, 'no form on the error page');
  await screenshot(page, 'oauth-error-page');
  await page.close();
});

await finish();
