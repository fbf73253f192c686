// harness.mjs — what the browser tests share: a real `eider dev` on a free port over a
// copy of an example (as tests/e2e/lib.sh's copy_example), Debian's Chromium driven by
// playwright-core (scripts/setup.sh --test installs both), one function per case,
// screenshots under BUILD/screenshots/, and the closing "N passed, M failed".
//
// Run by ctest (tests/CMakeLists.txt) as `node tests/browser/test_X.mjs` with EIDER (the
// binary), SRC (the source folder) and BUILD (the build folder). Exits 77 (ctest: skipped)
// when Chromium or playwright-core is missing, saying which. ONLY_CASES="a b" runs those.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SKIP = 77;
export const SRC = process.env.SRC || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const BUILD = process.env.BUILD || path.join(SRC, 'build');
export const EIDER = process.env.EIDER || path.join(BUILD, 'eider');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PLAYWRIGHT = process.env.PLAYWRIGHT_CORE ||
  path.join(SRC, 'third_party/node/node_modules/playwright-core/index.mjs');
export const SHOTS = path.join(BUILD, 'screenshots');

function skip(why) {
  console.log(`skipped: ${why}`);
  process.exit(SKIP);
}

async function loadPlaywright() {
  if (!fs.existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM}: scripts/setup.sh --test installs the Debian package chromium`);
  if (!fs.existsSync(PLAYWRIGHT)) skip(`no playwright-core at ${PLAYWRIGHT}: scripts/setup.sh --test installs it`);
  return import(PLAYWRIGHT);
}

const CASE_TIMEOUT_MS = 150000;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A copy of examples/NAME in a fresh folder, without any database or compile cache.
export function copyExample(name, dir) {
  fs.cpSync(path.join(SRC, 'examples', name), dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) {
    if (f === '.eider' || f.endsWith('.duckdb') || f.endsWith('.duckdb.wal')) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  }
}

// `eider dev -f definitions.c --port 0` in dir; resolves to { url, token, stop() } (the
// token printed at start, or the one given with --auth-token).
export function startServer(dir, args = [], env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(EIDER, ['dev', '-f', 'definitions.c', '--port', '0', ...args], {
      cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`eider dev printed no URL in 60 s: ${err}`)), 60000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const url = /eider dev: serving (http\S+)/.exec(out);
      const printed = /token for .*: (\S+)/.exec(out);
      const given = args.indexOf('--auth-token');
      const token = printed ? printed[1] : given >= 0 ? args[given + 1] : null;
      if (url && token) {
        clearTimeout(timer);
        resolve({
          // a server on every address (0.0.0.0, ::) is opened on loopback
          url: url[1].replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:'), token, dir,
          stderr: () => err,
          // SIGTERM, and its exit code; one that has not ended 20 s later is killed and
          // answers 'hung' (a failure), so a shutdown that hangs fails its case.
          stop: () => new Promise((res) => {
            if (child.exitCode !== null || child.signalCode !== null) return res(child.exitCode);
            const hung = setTimeout(() => { child.kill('SIGKILL'); res('hung'); }, 20000);
            child.once('exit', (code) => { clearTimeout(hung); res(code); });
            child.kill('SIGTERM');
          }),
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`eider dev exited ${code}: ${err}`));
    });
  });
}

// Cases: suite.case(name, async ({ page, server, shot }) => ...), then suite.finish().
export async function suite(name, { example = 'duckdb_io_manager', scheme = 'light' } = {}) {
  const pw = await loadPlaywright();
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await pw.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const only = (process.env.ONLY_CASES || '').split(/\s+/).filter(Boolean);
  let passed = 0;
  const failed = [];
  return {
    browser,
    async case(caseName, fn, opts = {}) {
      if (only.length && !only.includes(caseName)) return;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `eider-browser-${caseName}-`));
      let server = null, context = null;
      const errors = [];
      try {
        if (opts.setup) await opts.setup(dir);
        else copyExample(opts.example || example, dir);
        server = await startServer(dir, opts.args || [], opts.env || {});
        context = await browser.newContext({
          viewport: opts.viewport || { width: 1360, height: 820 },
          colorScheme: opts.scheme || scheme, deviceScaleFactor: 1,
        });
        const page = await context.newPage();
        page.setDefaultTimeout(opts.timeout || 20000);
        page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
        page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) errors.push(`console: ${m.text()}`); });
        const shot = (n, o = {}) => page.screenshot({ path: path.join(SHOTS, `${n}.png`), ...o });
        // a case that hangs fails after CASE_TIMEOUT_MS, naming itself, not the whole file
        let limit;
        await Promise.race([
          fn({ page, server, shot, dir, errors }),
          new Promise((_, reject) => { limit = setTimeout(() => reject(new Error(
            `the case did not end within ${CASE_TIMEOUT_MS / 1000} s`)), CASE_TIMEOUT_MS); }),
        ]).finally(() => clearTimeout(limit));
        if (errors.length && !opts.allowErrors) throw new Error(errors.join('\n'));
        passed++;
        console.log(`ok   ${caseName}`);
      } catch (e) {
        failed.push(caseName);
        console.log(`FAIL ${caseName}\n    ${String(e && e.stack || e).split('\n').slice(0, 8).join('\n    ')}`);
        if (errors.length) console.log('    ' + errors.join('\n    '));
        if (server) console.log('    --- eider dev stderr:\n' + server.stderr().split('\n').slice(-20).join('\n'));
      } finally {
        if (context) await context.close();
        if (server) {
          // it stops cleanly, with nothing on stderr (a sanitizer's report included)
          const code = await server.stop();
          const err = server.stderr();
          if ((code !== 0 || err) && !failed.includes(caseName)) {
            failed.push(caseName);
            passed--;
            console.log(`FAIL ${caseName}: eider dev ${code === "hung" ? "did not stop within 20 s of SIGTERM (killed)" : `exited ${code} on SIGTERM`}${err ? ', stderr:\n' + err.split('\n').slice(0, 30).join('\n') : ''}`);
          }
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    async finish() {
      await browser.close();
      if (failed.length) console.log(`failed: ${failed.join(' ')}`);
      console.log(`${passed} passed, ${failed.length} failed`);
      process.exit(failed.length ? 1 : 0);
    },
  };
}

// One request to the server's API (the token sent); the parsed answer, or throws.
export async function api(server, method, p, body) {
  const res = await fetch(new URL(p, server.url), {
    method,
    headers: { 'Content-Type': 'application/json', 'X-Eider-Token': server.token },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// The run once it has ended (polling the API).
export async function ended(server, id, timeout = 60000) {
  const t0 = Date.now();
  for (;;) {
    const run = await api(server, 'GET', `/api/runs/${id}`);
    if (['success', 'failure', 'canceled', 'crashed', 'refused'].includes(run.status)) return run;
    if (Date.now() - t0 > timeout) throw new Error(`run ${id} still ${run.status} after ${timeout} ms`);
    await sleep(100);
  }
}

// Assert with a message.
export function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

// Wait until fn() (in the page) returns a truthy value; returns it.
export async function waitFor(page, fn, arg, timeout = 30000, what = 'a condition') {
  const h = await page.waitForFunction(fn, arg, { timeout, polling: 100 }).catch((e) => {
    throw new Error(`timed out waiting for ${what}: ${e.message.split('\n')[0]}`);
  });
  return h.jsonValue();
}
