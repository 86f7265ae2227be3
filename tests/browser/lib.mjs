// Shared pieces of the browser tests (tests/browser/*.test.mjs), run by tests/browser/run.sh.
//
// Owns: starting `digistore24-mcp serve --sandbox` on a free port, serving a test page
// from a local origin, bundling page scripts with esbuild, launching the system Chromium
// through playwright-core, screenshots into .cache/artifacts/browser/, and the
// `PASS name` / `FAIL name: reason` lines run.sh counts.
// Must not touch: the server's code or the clients suite (it only borrows that suite's
// pinned node_modules, installed by tests/clients/run.sh --install-only).

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const NODE_MODULES = path.join(ROOT, 'tests/clients/node_modules');
export const ARTIFACTS = path.join(ROOT, '.cache/artifacts/browser');
export const RUN_DIR = path.join(ROOT, '.cache/browser-run');
const BIN = process.env.DS24_MCP_BIN || path.join(ROOT, 'target/debug/digistore24-mcp');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// The pinned packages live in the clients suite's node_modules, not beside this file.
const require = createRequire(path.join(NODE_MODULES, 'noop.js'));

let failures = 0;

/** Runs one check: prints PASS, or FAIL with the reason (never throws). */
export async function check(name, body) {
  try {
    await body();
    console.log(`PASS ${name}`);
  } catch (error) {
    failures += 1;
    const reason = String(error?.stack || error).split('\n').slice(0, 3).join(' | ');
    console.log(`FAIL ${name}: ${reason}`);
  }
}

/** Throws `message` unless `condition`. */
export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** A free loopback port (bound and released: a tiny race, retried by the caller). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const cleanups = [];
/** Stops everything the tests started; run.sh's timeout covers a hang here. */
export async function cleanup() {
  while (cleanups.length) await cleanups.pop()().catch(() => {});
}

/**
 * Starts `serve --sandbox` with `args` on a free port and waits for /health
 * (`@PORT@` in an argument becomes that port, e.g. for --public-url).
 * Returns { url (of /mcp), base, log (path) }.
 */
export async function startServer(name, args = []) {
  fs.mkdirSync(path.join(RUN_DIR, 'logs'), { recursive: true });
  const log = path.join(RUN_DIR, 'logs', `server-${name}.log`);
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const port = await freePort();
    const out = fs.openSync(log, 'w');
    const child = spawn(BIN, ['serve', '--sandbox', '--listen', `127.0.0.1:${port}`, ...args.map((a) => a.replaceAll('@PORT@', String(port)))], {
      stdio: ['ignore', out, out],
      env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'info' },
    });
    let exited = false;
    child.once('exit', () => { exited = true; });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (!exited && Date.now() < deadline) {
      try {
        if ((await fetch(`${base}/health`)).ok) {
          cleanups.push(() => stopChild(child));
          return { url: `${base}/mcp`, base, log };
        }
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 200));
    }
    await stopChild(child);
    const text = fs.readFileSync(log, 'utf8');
    if (!/address (already )?in use|AddrInUse/i.test(text)) {
      throw new Error(`server ${name} did not become healthy; last log lines:\n${text.split('\n').slice(-20).join('\n')}`);
    }
  }
  throw new Error(`server ${name}: no free port after 3 attempts`);
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(killer); resolve(); });
    child.kill('SIGTERM');
  });
}

/**
 * Serves `files` ({ '/path': { type, body } }) on a free loopback port.
 * Returns the port; the page's origin is whatever host name the browser uses for it.
 */
export async function servePage(files) {
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return server.address().port;
}

/** Bundles `entry` (a browser module importing npm packages) into one IIFE script. */
export async function bundle(entry) {
  const esbuild = require('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    nodePaths: [NODE_MODULES],
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/**
 * Launches headless Chromium (the system package; never a downloaded build) with an
 * empty profile. Host names ending in `.test` resolve to 127.0.0.1, so a test can
 * serve pages from distinct, non-loopback-named origins.
 */
export async function launchBrowser() {
  const { chromium } = require('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ds24-browser-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--host-resolver-rules=MAP *.test 127.0.0.1',
    ],
  });
  cleanups.push(async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/** Saves a screenshot of `page` as .cache/artifacts/browser/NAME.png and returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Ends the test file: exit 1 if any check failed. */
export async function finish() {
  await cleanup();
  process.exit(failures ? 1 : 0);
}
