// dev_browser.mjs — the lineage graph of `eider dev` with 10,000 assets in headless
// Chromium (Debian's, driven by playwright-core as the browser tests do): how long from
// navigation until the canvas has drawn the graph's nodes, until a wheel zoom has been
// drawn after that (the graph shown and interactive: issue 11's target, <= 3 s), and the
// time one zoom frame and one pan frame take. Not a test: it prints figures.
//
//   node bench/dev_browser.mjs [--assets N] [--repeat R]
//
// Environment: EIDER (the binary), GEN (bench_gen_defs), CC (default cc), SRC (the source
// folder; default this file's parent's parent), CHROMIUM (default /usr/bin/chromium),
// PLAYWRIGHT_CORE (default SRC/third_party/node/node_modules/playwright-core/index.mjs),
// BUILD (default SRC/build-bench): the last load's screenshots go to BUILD/screenshots/
// (bench-lineage-10000.png once drawn, bench-lineage-10000-zoomed.png after the zooms).
//
// The definitions are bench_dev's: bench_gen_defs N, compiled -O0 into defs.so (not
// timed), served by one `eider dev -l defs.so --port 0` with a fresh EIDER_HOME. Each
// repetition opens the page in a new browser context (nothing cached); the first one
// meets a server that has not laid the graph out yet ("cold"), the others the layout
// the server keeps. The signals the page gives: the performance mark
// 'eider:graph-drawn' (ui/pages/graphview.js), set by the first canvas paint that shows
// nodes, its startTime counted from the navigation's start; and
// window.__eiderLineage.view() (the lineage page's hook for the tests), which counts the
// canvas paints and the nodes drawn by the last one (`paints`, `shown`) and how long it
// took (`paintMs`). The floor beside it, in the same browser: a page of the
// same server (GET /api/defs) that fetches /api/graph and /api/assets and parses them,
// from the navigation's start; no drawing, no UI. DuckDB has no counterpart here.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const SRC = process.env.SRC || path.resolve(here, '..');
const EIDER = process.env.EIDER || path.join(SRC, 'build-bench/eider');
const GEN = process.env.GEN || path.join(SRC, 'build-bench/bench/bench_gen_defs');
const CC = process.env.CC || 'cc';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PLAYWRIGHT = process.env.PLAYWRIGHT_CORE ||
  path.join(SRC, 'third_party/node/node_modules/playwright-core/index.mjs');
const SHOTS = path.join(process.env.BUILD || path.join(SRC, 'build-bench'), 'screenshots');
const TARGET_S = 3;

function args() {
  const a = { assets: 10000, repeat: 5 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '--assets' && i + 1 < v.length) a.assets = Number(v[++i]);
    else if (v[i] === '--repeat' && i + 1 < v.length) a.repeat = Number(v[++i]);
    else die('usage: dev_browser.mjs [--assets N] [--repeat R]');
  }
  if (!(a.assets >= 100) || !(a.repeat >= 1 && a.repeat <= 50)) die('--assets must be at least 100, --repeat 1 to 50');
  return a;
}

function die(msg) {
  console.error(`dev_browser: ${msg}`);
  process.exit(1);
}

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// bench_gen_defs N, compiled as bench_dev compiles it: the library's path and the seconds.
function library(dir, n) {
  const src = path.join(dir, 'defs.c'), lib = path.join(dir, 'defs.so');
  execFileSync(GEN, [String(n), src], { cwd: dir });
  const t0 = Date.now();
  execFileSync(CC, ['-shared', '-fPIC', '-O0', '-std=gnu11', `-I${path.join(SRC, 'include')}`,
    `-I${path.join(SRC, 'third_party/duckdb/include')}`, '-o', lib, src], { cwd: dir });
  return { lib, ccS: (Date.now() - t0) / 1000 };
}

// `eider dev -l lib --port 0` in dir; resolves to { url, stop() } once it serves.
function startServer(dir, lib) {
  return new Promise((resolve, reject) => {
    const child = spawn(EIDER, ['dev', '-l', lib, '--port', '0'], {
      cwd: dir, env: { ...process.env, EIDER_HOME: path.join(dir, 'home') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`eider dev printed no URL in 120 s: ${err}`)), 120000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const url = /eider dev: serving (http\S+)/.exec(out);
      if (url) {
        clearTimeout(timer);
        resolve({ url: url[1], stop: () => new Promise((res) => { child.once('exit', res); child.kill('SIGTERM'); }) });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`eider dev exited ${code}: ${err}`)); });
  });
}

// One load of the lineage page in a fresh context: milliseconds from the navigation's
// start to the nodes drawn and to a wheel zoom drawn after them; the paint times of
// zoom and pan frames.
async function loadGraph(browser, url, n, shoot) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 820 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  try {
    await page.goto(url, { waitUntil: 'commit' });
    const drawn = await page.waitForFunction(() => {
      const m = performance.getEntriesByName('eider:graph-drawn')[0];
      return m ? m.startTime : 0;
    }, null, { polling: 100, timeout: 120000 });
    const drawnMs = await drawn.jsonValue();
    const count = await page.evaluate(() => window.__eiderLineage.nodes().length);
    if (count !== n) throw new Error(`the page drew a graph of ${count} nodes, not ${n}`);
    const shot = async (name) => {
      if (!shoot) return;
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
    };
    // a wheel zoom at the centre, then the frame that draws it
    const firstZoom = await page.evaluate(() => new Promise((resolve) => {
      const cv = document.querySelector('canvas.graph-canvas');
      const r = cv.getBoundingClientRect();
      const before = window.__eiderLineage.view().paints;
      cv.dispatchEvent(new WheelEvent('wheel', { deltaY: -200, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));
      const check = () => {
        if (window.__eiderLineage.view().paints > before) resolve(performance.now());
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    }));
    // frames: 9 wheel zooms in, then 9 drags of 40 px (the pointer, as a user pans)
    const zoom = await page.evaluate(async () => {
      const cv = document.querySelector('canvas.graph-canvas');
      const r = cv.getBoundingClientRect();
      const out = [];
      for (let i = 0; i < 9; i++) {
        const t0 = performance.now();
        cv.dispatchEvent(new WheelEvent('wheel', { deltaY: -120, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));
        await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
        out.push({ paint: window.__eiderLineage.view().paintMs, frame: performance.now() - t0 });
      }
      return { frames: out, shown: window.__eiderLineage.view().shown };
    });
    await shot(`bench-lineage-${n}-zoomed`);
    const box = await page.locator('canvas.graph-canvas').boundingBox();
    let x = box.x + box.width / 2, y = box.y + box.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    const pan = [];
    for (let i = 0; i < 9; i++) {
      const before = await page.evaluate(() => window.__eiderLineage.view().paints);
      const t0 = Date.now();
      x -= 40;
      await page.mouse.move(x, y);
      await page.waitForFunction((b) => window.__eiderLineage.view().paints > b, before, { polling: 'raf' });
      pan.push({ paint: await page.evaluate(() => window.__eiderLineage.view().paintMs), frame: Date.now() - t0 });
    }
    await page.mouse.up();
    if (shoot) {
      await page.click('button[title="Fit the graph to the screen"]');
      await sleep(300);
      await shot(`bench-lineage-${n}`);
    }
    return { drawnMs, interactiveMs: firstZoom, zoom: zoom.frames, zoomShown: zoom.shown, pan };
  } finally {
    await context.close();
  }
}

// The floor: a small page of the same server, then the graph and the assets fetched
// and parsed; milliseconds from the navigation's start.
async function floor(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(new URL('/api/defs', url).href, { waitUntil: 'commit' });
    return await page.evaluate(async () => {
      await Promise.all(['/api/graph', '/api/assets'].map((p) => fetch(p).then((r) => r.json())));
      return performance.now();
    });
  } finally {
    await context.close();
  }
}

function row(name, raw, ours, note) {
  const ratio = raw ? (ours / raw).toFixed(3) : '   -  ';
  const rs = raw ? raw.toFixed(6).padStart(10) : '         -';
  console.log(`  ${name.padEnd(30)} ${rs}   ${ours.toFixed(6).padStart(10)} ${ratio.padStart(8)}  ${note}`);
}

async function main() {
  const a = args();
  if (!fs.existsSync(CHROMIUM)) { console.log(`dev_browser: skipped: no Chromium at ${CHROMIUM} (scripts/setup.sh --test installs it)`); return; }
  if (!fs.existsSync(PLAYWRIGHT)) { console.log(`dev_browser: skipped: no playwright-core at ${PLAYWRIGHT} (scripts/setup.sh --test installs it)`); return; }
  const pw = await import(PLAYWRIGHT);
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), 'eider-bench-browser-'));
  let server = null, browser = null;
  try {
    const { lib, ccS } = library(dir, a.assets);
    server = await startServer(dir, lib);
    browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const loads = [];
    for (let r = 0; r <= a.repeat; r++) loads.push(await loadGraph(browser, server.url, a.assets, r === a.repeat));
    const floors = [];
    for (let r = 0; r < a.repeat; r++) floors.push(await floor(browser, server.url));
    const cold = loads[0], warm = loads.slice(1);
    const s = (ms) => ms / 1000;
    const fl = s(median(floors));
    const zoomPaint = median(warm.flatMap((l) => l.zoom.map((f) => f.paint)));
    const zoomFrame = median(warm.flatMap((l) => l.zoom.map((f) => f.frame)));
    const panPaint = median(warm.flatMap((l) => l.pan.map((f) => f.paint)));
    const panFrame = median(warm.flatMap((l) => l.pan.map((f) => f.frame)));
    const firstPaint = median(warm.map((l) => l.zoom[0].paint));
    console.log(`\ndev_browser: the lineage page of 'eider dev -l defs.so' with ${a.assets} assets in headless Chromium `
      + `(${path.basename(CHROMIUM)}, software canvas; library built with -O0 in ${ccS.toFixed(1)} s, not timed); `
      + `median of ${a.repeat} page loads, each in a new browser context`);
    console.log('  raw: the floor in the same browser: a page of the server fetching and parsing /api/graph and /api/assets (no DuckDB counterpart)');
    console.log('  case                                raw s      eider s    ratio  note');
    row('nodes drawn (layout cold)', fl, s(cold.drawnMs), 'navigation to the first paint of the nodes; the server lays the graph out on this request');
    row('nodes drawn', fl, s(median(warm.map((l) => l.drawnMs))), 'navigation to the first paint of the nodes (layout kept)');
    row('shown + interactive (cold)', fl, s(cold.interactiveMs), `navigation to a wheel zoom drawn; target eider <= ${TARGET_S.toFixed(3)} s`);
    row('shown + interactive', fl, s(median(warm.map((l) => l.interactiveMs))), `the same, layout kept; target eider <= ${TARGET_S.toFixed(3)} s`);
    row('zoom frame: paint', null, s(zoomPaint), `wheel zoom in, ${warm[0].zoomShown} nodes on screen after 10 steps; the paint's own time (median; the first zoom from the fitted view ${firstPaint.toFixed(1)} ms)`);
    row('zoom frame: to screen', null, s(zoomFrame), 'the wheel event to two animation frames later (60 Hz: 0.033 s is the floor)');
    row('pan frame: paint', null, s(panPaint), 'a 40 px drag of the pointer; the paint\'s own time (median)');
    row('pan frame: to screen', null, s(panFrame), 'the pointer move (playwright) to the paint seen (median)');
  } finally {
    if (browser) await browser.close();
    if (server) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => die(String(e && e.stack || e)));
