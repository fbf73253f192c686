// test_crash.mjs — issue 11's crash case in Chromium, against a real `eider dev` over
// the fixture tests/browser/fixtures/crash (an asset that writes through NULL inside a
// DuckDB transaction, one that calls exit(3), one that works, all on one DuckDB file):
// a crash launched from the UI (the asset page's Materialize, the lineage toolbar)
// shows on the run page as a crashed run whose failure names the asset and the signal
// or the exit status; the server answers on (the API, the lineage page), and a good run
// launched after it from the UI succeeds on the same DuckDB file. Screenshots of the
// crashed runs go to BUILD/screenshots/.
import fs from 'node:fs';
import path from 'node:path';
import { suite, expect, waitFor, SRC } from './harness.mjs';

const FIXTURE = path.join(SRC, 'tests/browser/fixtures/crash');

function copyFixture(dir) {
  fs.copyFileSync(path.join(FIXTURE, 'definitions.c'), path.join(dir, 'definitions.c'));
}

// One GET to the server's API from outside the page: the status and the parsed body.
async function get(server, p) {
  const res = await fetch(new URL(p, server.url));
  return { status: res.status, body: await res.json() };
}

async function openLineage(page, server) {
  await page.goto(server.url);
  return waitFor(page, () => {
    const l = window.__eiderLineage;
    const n = l && l.nodes();
    return n && n.length && n.every((x) => x.status) ? n : null;
  }, null, 20000, 'the lineage graph');
}

// Select keys in the lineage's selection box and press "Materialize selected": the
// run id the toast links to.
async function materializeFromToolbar(page, selection) {
  await page.fill('#selection', selection);
  await page.getByRole('button', { name: 'Materialize selected (1)' }).click();
  const link = page.locator('.toast a', { hasText: 'View run' }).last();
  await link.waitFor();
  return (await link.getAttribute('href')).replace('#/runs/', '');
}

// The run page of id shows the run crashed, and a failure of key whose message has
// every one of words. Returns the failure's text.
async function expectCrashedRunPage(page, id, key, words) {
  await page.locator('.rh-status[data-status="crashed"]').waitFor({ timeout: 30000 });
  expect(await page.locator('h1.run-id').textContent() === id, 'the run page shows another run');
  const failure = page.locator('#failures .failure', { has: page.locator(`a.mono:text-is("${key}")`) });
  await failure.waitFor();
  const msg = await failure.locator('.f-msg').textContent();
  for (const w of words) expect(msg.includes(w), `the failure of ${key} does not say '${w}': ${msg}`);
  return msg;
}

// The server answers after a crash: the asset list, and the lineage page with key
// shown failed. The page learns it live (the poller, then the event stream), so it
// may take a moment after the API says so: waited for, not read at one instant (on a
// loaded machine the lineage was read while it still said "never").
async function expectServerAnswers(page, server, key) {
  const assets = await get(server, '/api/assets');
  expect(assets.status === 200, `GET /api/assets answered ${assets.status}`);
  const a = assets.body.find((x) => x.key === key);
  expect(a && a.status === 'failed', `the API says ${key} is ${a && a.status}`);
  await openLineage(page, server);
  await waitFor(page, (k) => window.__eiderLineage.nodes().find((n) => n.key === k).status === 'failed',
    key, 20000, `the lineage to show ${key} failed`);
}

async function expectRunSucceeds(server, id) {
  const t0 = Date.now();
  for (;;) {
    const { body: run } = await get(server, `/api/runs/${id}`);
    if (run.status === 'success') return run;
    expect(['queued', 'started'].includes(run.status), `the good run ended ${run.status}: ${run.error}`);
    expect(Date.now() - t0 < 60000, `the good run is still ${run.status} after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const t = await suite('crash');

await t.case('segfault_from_the_asset_page', async ({ page, server, shot }) => {
  await page.goto(server.url + '#/assets/null_deref');
  await page.getByRole('button', { name: 'Materialize', exact: true }).click();
  // the note under the header follows the run to its end, live
  const link = page.locator('.pg-note a[href^="#/runs/"]');
  await link.waitFor();
  const id = (await link.getAttribute('href')).replace('#/runs/', '');
  await page.locator('.launch-status[data-status="crashed"]').waitFor({ timeout: 30000 });
  await link.click();
  const msg = await expectCrashedRunPage(page, id, 'null_deref', ['null_deref', 'SIGSEGV']);
  expect(/signal 11/.test(msg), `the failure does not give the signal's number: ${msg}`);
  await shot('run-crashed-sigsegv');
  // what the API records agrees with the page
  const { body: run } = await get(server, `/api/runs/${id}`);
  expect(run.status === 'crashed', `the API says the run is ${run.status}`);
  const step = run.steps.find((s) => s.key === 'null_deref');
  expect(step && /SIGSEGV/.test(step.error), `the step's error is ${step && step.error}`);
  await expectServerAnswers(page, server, 'null_deref');
  await shot('lineage-after-crash');
  // a good run after it, launched from the toolbar, writes the same DuckDB file
  const good = await materializeFromToolbar(page, 'good');
  await expectRunSucceeds(server, good);
  await waitFor(page, () => window.__eiderLineage.nodes().find((n) => n.key === 'good').status === 'fresh',
    null, 20000, 'good to show fresh');
}, { setup: copyFixture });

await t.case('exit_from_the_lineage_toolbar', async ({ page, server, shot }) => {
  await openLineage(page, server);
  const id = await materializeFromToolbar(page, 'exits');
  await page.locator('.toast', { hasText: `Run ${id.slice(0, 8)} crashed` }).waitFor({ timeout: 30000 });
  await page.locator('.toast a', { hasText: 'View run' }).last().click();
  await page.waitForFunction((h) => location.hash === h, `#/runs/${id}`);
  await expectCrashedRunPage(page, id, 'exits', ['exits', 'exit(3)']);
  await shot('run-crashed-exit');
  await expectServerAnswers(page, server, 'exits');
  // a good run after it, launched from the asset page
  await page.goto(server.url + '#/assets/good');
  await page.getByRole('button', { name: 'Materialize', exact: true }).click();
  await page.locator('.launch-status[data-status="success"]').waitFor({ timeout: 30000 });
  const link = await page.locator('.pg-note a[href^="#/runs/"]').getAttribute('href');
  await expectRunSucceeds(server, link.replace('#/runs/', ''));
}, { setup: copyFixture });

// A crash in the middle of a run of several assets: the asset downstream of the one
// that crashed never starts, and the run page says so.
await t.case('crash_skips_what_is_downstream', async ({ page, server, shot }) => {
  await openLineage(page, server);
  await page.fill('#selection', 'null_deref+');
  await page.getByRole('button', { name: 'Materialize selected (2)' }).click();
  const link = page.locator('.toast a', { hasText: 'View run' }).last();
  await link.waitFor();
  const id = (await link.getAttribute('href')).replace('#/runs/', '');
  await link.click();
  await expectCrashedRunPage(page, id, 'null_deref', ['SIGSEGV']);
  const { body: run } = await get(server, `/api/runs/${id}`);
  const after = run.steps.find((s) => s.key === 'after_crash');
  expect(after && after.status === 'skipped', `after_crash is ${after && after.status}`);
  await page.locator('.rh-line .counts', { hasText: '1 skipped' }).waitFor();
  await shot('run-crashed-downstream');
  const assets = await get(server, '/api/assets');
  expect(assets.status === 200, `GET /api/assets answered ${assets.status}`);
  expect(assets.body.find((x) => x.key === 'after_crash').status === 'never', 'after_crash ran');
}, { setup: copyFixture });

await t.finish();
