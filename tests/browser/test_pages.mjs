// test_pages.mjs — the asset, runs and run pages in Chromium, against a real `eider dev`
// over examples/duckdb_reference: the asset page's Materialize shows 150 rows, the plots,
// the preview and the history without a reload; the runs list shows a run live and
// filters by status; the run page draws the Gantt and the event log with its filters;
// a failed run shows its message and failing SQL highlighted; the partition grid
// launches one partition on a click and a range on a drag. Screenshots of each page
// (light and dark) go to BUILD/screenshots/.
import fs from 'node:fs';
import path from 'node:path';
import { suite, api, ended, expect, waitFor, sleep, copyExample } from './harness.mjs';

const EXAMPLE = 'duckdb_reference';

async function launch(server, body) {
  return (await api(server, 'POST', '/api/runs', body)).run_id;
}

// The run id of the "Launched ..." note's link.
async function launchedRun(page) {
  const link = page.locator('.pg-note a[href^="#/runs/"]').first();
  await link.waitFor();
  return (await link.getAttribute('href')).replace('#/runs/', '');
}

// A screenshot of the whole page: the window as tall as the page's content.
async function fullShot(page, shot, name) {
  const vp = page.viewportSize();
  const h = await page.evaluate(() => {
    const el = document.querySelector('.pg');
    return el ? Math.ceil(el.getBoundingClientRect().bottom + (el.parentElement ? el.parentElement.scrollTop : 0)) : 0;
  });
  if (h > vp.height) await page.setViewportSize({ width: vp.width, height: Math.min(h + 8, 4000) });
  await sleep(250);
  await shot(name);
  await page.setViewportSize(vp);
}

// The example with an asset whose SQL names a column that does not exist, and a slow
// one (2.5 s) with an asset downstream.
function withFailingAsset(dir) {
  copyExample(EXAMPLE, dir);
  const f = path.join(dir, 'definitions.c');
  let src = fs.readFileSync(f, 'utf8');
  src = '#include <unistd.h>\n' + src;
  src = src.replace('void eider_definitions(eider_defs *defs)\n{', `static int slow_wait(eider_context *ctx)
{
    usleep(2500000);
    return eider_output_sql(ctx, "SELECT 1 AS x");
}

static int slow_after(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT x + 1 AS y FROM {wait}");
}

static int species_report(eider_context *ctx)
{
    eider_log(ctx, EIDER_LOG_WARN, "the report reads %s", "petal_area");
    return eider_output_sql(ctx, "SELECT species, avg(petal_area) AS mean_area\\n"
                                 "FROM {iris_cleaned}\\nGROUP BY species -- one row each");
}

void eider_definitions(eider_defs *defs)
{`);
  src = src.replace(/\}\s*$/, `    eider_asset(defs, &(eider_asset_def){ .key = "analytics/species_report",
        .compute = species_report, .deps = EIDER_KEYS("iris/iris_cleaned"),
        .description = "The **mean petal area** per species, from \`iris_cleaned\`.\\n\\n"
                       "- see [the data set](https://archive.ics.uci.edu/dataset/53/iris)\\n"
                       "- <img src=x onerror=alert(1)> [bad](javascript:alert(1))" });
    eider_asset(defs, &(eider_asset_def){ .key = "slow/wait", .compute = slow_wait });
    eider_asset(defs, &(eider_asset_def){ .key = "slow/after", .compute = slow_after,
        .deps = EIDER_KEYS("slow/wait") });
}
`);
  fs.writeFileSync(f, src);
}

const t = await suite('pages', { example: EXAMPLE });

await t.case('asset_page_materializes_and_shows_150_rows', async ({ page, server, shot }) => {
  await page.goto(server.url + '#/assets/iris/iris_dataset');
  await page.locator('.asset-key', { hasText: 'iris_dataset' }).waitFor();
  await page.locator('.ah-status[data-status="never"]').waitFor();
  await page.locator('#history .pg-empty[data-never]', { hasText: 'Never materialized' }).waitFor();
  await page.getByRole('button', { name: 'Materialize', exact: true }).click();
  const id = await launchedRun(page);
  expect((await ended(server, id)).status === 'success', 'the launched run did not succeed');
  // the page follows the run by itself: the latest materialization, its rows, the plot
  await page.locator('.ah-latest strong', { hasText: /^150$/ }).waitFor({ timeout: 30000 });
  await page.locator('.ah-status[data-status="fresh"]').waitFor();
  await page.locator('.pg-note .launch-status[data-status="success"]').waitFor();
  await page.locator('#history tbody tr').first().waitFor();
  const hist = await page.$$eval('#history tbody tr', (rs) => rs.map((r) => r.innerText));
  expect(hist.length === 1 && hist[0].includes('150') && hist[0].includes(id.slice(0, 8)),
    `the history is ${JSON.stringify(hist)}`);
  expect(await page.locator('.plot canvas').count() >= 2, 'no plot is drawn');
  await page.locator('.plot[data-plot="Row count"] .u-legend', { hasText: '150' }).waitFor();
  expect(await page.locator('#preview tbody tr').count() === 10, 'the preview has not 10 rows');
  const cols = await page.$$eval('#schema tbody tr', (rs) => rs.map((r) => r.innerText.replace(/\s+/g, ' ').trim()));
  expect(cols.length === 5 && cols[4] === 'species VARCHAR', `the columns are ${JSON.stringify(cols)}`);
  const down = await page.$$eval('#lineage .nbrs a', (as) => as.map((a) => a.getAttribute('href')));
  expect(down.includes('#/assets/iris/sepal_data'), `the neighbours are ${down}`);
  // hovering the plot tells the point's value (the plot is drawn again as the page
  // follows the run: its box is asked for until it is laid out)
  const over = page.locator('.plot[data-plot="Duration"] .u-over');
  let box = null;
  for (let i = 0; i < 50 && !box; i++) {
    await over.waitFor();
    box = await over.boundingBox();
    if (!box) await sleep(100);
  }
  expect(box, 'the duration plot is never laid out');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.locator('.plot[data-plot="Duration"] .u-legend', { hasText: 'ms' }).waitFor();
  await fullShot(page, shot, 'asset-light');
});

await t.case('asset_page_says_what_is_unknown', async ({ page, server }) => {
  await page.goto(server.url + '#/assets/iris/no_such_asset');
  const err = page.locator('.pg-error');
  await err.waitFor();
  const text = await err.innerText();
  expect(/no_such_asset/.test(text), `the error says ${text}`);
});

await t.case('asset_page_renders_the_description_safely', async ({ page, server, shot }) => {
  await page.goto(server.url + '#/assets/analytics/species_report');
  await page.locator('.md strong', { hasText: 'mean petal area' }).waitFor();
  expect(await page.locator('.md code', { hasText: 'iris_cleaned' }).count() === 1, 'no inline code');
  expect(await page.locator('.md li').count() === 2, 'no list');
  expect(await page.locator('.md a[href="https://archive.ics.uci.edu/dataset/53/iris"]').count() === 1, 'no link');
  // HTML stays text, and a javascript: link is no link
  expect(await page.locator('.md img').count() === 0, 'the description made an element of its HTML');
  expect((await page.locator('.md').innerText()).includes('<img src=x onerror=alert(1)>'), 'the HTML is not shown as text');
  expect(await page.locator('.md a', { hasText: 'bad' }).count() === 0, 'a javascript: link is a link');
  await shot('asset-description-light');
}, { setup: withFailingAsset });

await t.case('runs_list_follows_a_run_and_filters', async ({ page, server, shot }) => {
  await page.goto(server.url + '#/runs');
  await page.locator('.pg-runs .pg-empty', { hasText: 'No runs yet' }).waitFor();
  const id = await launch(server, { selection: 'iris/iris_dataset+' });
  const row = page.locator(`tr[data-run="${id}"]`);
  await row.waitFor({ timeout: 30000 });                // without a reload
  await row.locator('.rs-success').waitFor({ timeout: 60000 });
  expect((await row.innerText()).includes('iris/iris_dataset+'), 'the row shows no selection');
  await page.getByRole('tab', { name: 'failure' }).click();
  await page.locator('.pg-runs .pg-empty', { hasText: 'No failure runs' }).waitFor();
  expect(await row.count() === 0, 'the failure filter shows a successful run');
  await page.getByRole('tab', { name: 'success' }).click();
  await row.waitFor();
  expect((await page.evaluate(() => location.hash)) === '#/runs?status=success', 'the filter is not in the URL');
  await page.getByRole('tab', { name: 'All' }).click();
  await row.locator('a.run-link').click();
  await page.waitForFunction((r) => location.hash === '#/runs/' + r, id);
  await page.locator('.run-head h1', { hasText: id }).waitFor();     // the run page, not the list
  await page.locator('.run-head .crumbs a').click();
  await page.locator('.pg-runs').waitFor();
  await page.goto(server.url + '#/runs');
  await row.waitFor();
  await shot('runs-light');
});

await t.case('run_page_draws_the_gantt_and_the_log', async ({ page, server, shot }) => {
  const id = await launch(server, { selection: 'not tag:partitioned=yes' });
  await page.goto(server.url + '#/runs/' + id);
  await page.locator('.rh-status[data-status="success"]').waitFor({ timeout: 60000 });
  await waitFor(page, () => document.querySelectorAll('.g-bar[data-outcome="success"]').length === 6,
    null, 30000, 'six green bars');
  const rows = await page.$$eval('.g-row[data-step]', (rs) => rs.map((r) => r.dataset.step));
  expect(rows.length === 6 && rows.includes('parquet_check'), `the Gantt rows are ${rows}`);
  // hovering a bar tells its timing
  await page.locator('.g-row[data-step="iris/iris_cleaned"] .g-bar').hover();
  await page.locator('.g-tip', { hasText: 'iris/iris_cleaned' }).waitFor();
  expect(/start \+/.test(await page.locator('.g-tip').innerText()), 'the tip has no start');
  const all = await page.locator('.log-tbl tbody tr').count();
  expect(all >= 20, `${all} events in the log`);
  await page.selectOption('select[name="step"]', 'iris/iris_cleaned');
  await waitFor(page, () => document.querySelectorAll('.log-tbl tbody tr').length === 3, null, 5000, "the step's 3 events");
  await page.selectOption('select[name="step"]', '');
  await page.fill('input[name="search"]', 'materialized 147');
  await waitFor(page, () => document.querySelectorAll('.log-tbl tbody tr').length === 1, null, 5000, 'one match');
  await page.fill('input[name="search"]', '');
  await page.selectOption('select[name="level"]', 'warning');
  await page.locator('.log .pg-empty', { hasText: 'No event matches' }).waitFor();
  await page.selectOption('select[name="level"]', 'all');
  expect(await page.getByRole('button', { name: 'Cancel' }).isDisabled(), 'an ended run can be canceled');
  await page.mouse.move(0, 0);
  await fullShot(page, shot, 'run-light');
});

await t.case('run_page_shows_the_failing_sql', async ({ page, server, shot }) => {
  await ended(server, await launch(server, { selection: 'iris/iris_dataset' }));
  const id = await launch(server, { selection: '+analytics/species_report' });
  expect((await ended(server, id)).status === 'failure', 'the run did not fail');
  await page.goto(server.url + '#/runs/' + id);
  await page.locator('.failures .f-msg', { hasText: 'petal_area' }).waitFor();
  const kws = await page.$$eval('.failures pre.sql .sql-kw', (s) => s.map((x) => x.textContent.toUpperCase()));
  expect(kws.includes('SELECT') && kws.includes('GROUP'), `the SQL keywords are ${kws}`);
  expect(await page.locator('.failures pre.sql .sql-com').count() === 1, 'the comment is not highlighted');
  await page.locator('.g-bar[data-outcome="failure"]').waitFor();
  await page.selectOption('select[name="level"]', 'warning');
  await waitFor(page, () => document.querySelectorAll('.log-tbl tbody tr').length === 2, null, 5000,
    'the warning and the failure');
  await fullShot(page, shot, 'run-failure-light');
  // re-executed from the failure: a new run, its page opened
  await page.getByRole('button', { name: 'Re-execute from failure' }).click();
  await page.waitForFunction((r) => /^#\/runs\/./.test(location.hash) && location.hash !== '#/runs/' + r, id);
  const again = (await page.evaluate(() => location.hash)).replace('#/runs/', '');
  const run = await ended(server, again);
  expect(run.status === 'failure', `the re-executed run is ${run.status}`);
  await page.locator('.rh-status[data-status="failure"]').waitFor({ timeout: 30000 });
}, { setup: withFailingAsset });

await t.case('run_page_follows_a_run_live', async ({ page, server, shot }) => {
  const id = await launch(server, { selection: 'slow/wait+' });
  await page.goto(server.url + '#/runs/' + id);
  // while slow/wait sleeps: its bar runs, slow/after waits, the header says started
  await page.locator('.g-row[data-step="slow/wait"] .g-bar[data-outcome="running"]').waitFor({ timeout: 20000 });
  await page.locator('.rh-status[data-status="started"]').waitFor();
  expect(!(await page.getByRole('button', { name: 'Cancel' }).isDisabled()), 'a started run cannot be canceled');
  await page.locator('#timeline .h-extra', { hasText: 'live' }).waitFor();
  await shot('run-live-light');
  // then, without a reload, both succeed
  await page.locator('.rh-status[data-status="success"]').waitFor({ timeout: 30000 });
  await waitFor(page, () => document.querySelectorAll('.g-bar[data-outcome="success"]').length === 2,
    null, 10000, 'two green bars');
  const types = await page.$$eval('.log-tbl tbody tr', (rs) => rs.map((r) => r.dataset.type));
  expect(types[0] === 'run_start' && types[types.length - 1] === 'run_end', `the log is ${types}`);
  expect(types.filter((x) => x === 'step_success').length === 2, `the log is ${types}`);
}, { setup: withFailingAsset });

await t.case('run_page_of_a_queued_run_cancels_it', async ({ page, server }) => {
  const first = await launch(server, { selection: 'slow/wait' });
  const queued = await launch(server, { selection: 'slow/after' });   // the same DuckDB file: it waits
  await page.goto(server.url + '#/runs/' + queued);
  await page.locator('.rh-status[data-status="queued"]').waitFor();
  await page.locator('#timeline .pg-empty', { hasText: 'No step has started yet' }).waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.rh-status[data-status="canceled"]').waitFor({ timeout: 20000 });
  expect((await ended(server, first)).status === 'success', 'the first run did not succeed');
}, { setup: withFailingAsset });

await t.case('pages_poll_without_the_event_streams', async ({ page, server }) => {
  // a server without Server-Sent Events: the streams answer 404
  const refused = [];
  await page.route((url) => url.pathname === '/api/events' || url.searchParams.get('stream') === '1', (route) => {
    refused.push(route.request().url());
    return route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"no such path"}' });
  });
  const id = await launch(server, { selection: 'slow/wait+' });
  await page.goto(server.url + '#/runs/' + id);
  await page.locator('.g-row[data-step="slow/wait"] .g-bar[data-outcome="running"]').waitFor({ timeout: 20000 });
  await page.locator('.rh-status[data-status="success"]').waitFor({ timeout: 30000 });
  await waitFor(page, () => document.querySelectorAll('.g-bar[data-outcome="success"]').length === 2,
    null, 10000, 'two green bars');
  expect(refused.some((u) => u.includes('stream=1')), 'the run page did not try its stream');
  // the runs list, too
  await page.goto(server.url + '#/runs');
  await page.reload();
  await page.locator(`tr[data-run="${id}"]`).waitFor();
  const next = await launch(server, { selection: 'slow/after' });
  await page.locator(`tr[data-run="${next}"] .rs-success`).waitFor({ timeout: 30000 });
  expect(refused.some((u) => u.endsWith('/api/events')), 'the runs list did not try the stream');
}, { setup: withFailingAsset });

await t.case('run_page_cancels_a_run', async ({ page, server, shot }) => {
  const id = await launch(server, { selection: 'slow/wait+' });
  await page.goto(server.url + '#/runs/' + id);
  await page.locator('.g-row[data-step="slow/wait"] .g-bar[data-outcome="running"]').waitFor({ timeout: 20000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.pg-note', { hasText: 'Cancel requested' }).waitFor();
  await page.locator('.rh-status[data-status="canceled"]').waitFor({ timeout: 30000 });
  const run = await ended(server, id);
  expect(run.status === 'canceled', `the run is ${run.status}`);
  // slow/after never ran
  await page.locator('.g-row[data-step="slow/after"]').waitFor();
  expect(await page.locator('.g-row[data-step="slow/after"] .g-bar[data-outcome="success"]').count() === 0,
    'slow/after ran after the cancel');
  await fullShot(page, shot, 'run-canceled-light');
}, { setup: withFailingAsset });

// A recorded run of n steps (one failing in 97), as the API would give it.
function bigRun(n) {
  const t0 = Date.now() * 1000 - 60e6;
  const events = [{ id: 1, run_id: 'big', time_us: t0, asset_key: null, type: 'run_start', metadata: {} }];
  let id = 2;
  for (let i = 0; i < n; i++) {
    const key = `g${i % 20}/asset_${i}`;
    const start = t0 + i * 2000;
    const fails = i % 97 === 0;
    events.push({ id: id++, run_id: 'big', time_us: start, asset_key: key, type: 'step_start', attempt: 1, metadata: {} });
    if (!fails) events.push({ id: id++, run_id: 'big', time_us: start + 1500, asset_key: key, type: 'materialization',
      attempt: 1, duration_s: 0.0015, metadata: { row_count: i } });
    events.push({ id: id++, run_id: 'big', time_us: start + 1600, asset_key: key, type: fails ? 'step_failure' : 'step_success',
      attempt: 1, duration_s: 0.0016, message: fails ? `boom ${i}` : null, sql: fails ? 'SELECT 1' : null, metadata: {} });
  }
  events.push({ id: id++, run_id: 'big', time_us: t0 + n * 2000, asset_key: null, type: 'run_end', duration_s: n * 0.002, metadata: {} });
  const failed = Math.ceil(n / 97);
  const run = { run_id: 'big', status: 'failure', selection: '*', partition: null, launched_by: 'api', tags: {},
    start_us: t0, end_us: t0 + n * 2000, duration_s: n * 0.002, n_succeeded: n - failed, n_failed: failed,
    n_skipped: 0, n_canceled: 0, notes: [], steps: [] };
  return { run, events };
}

await t.case('run_page_stays_quick_with_a_thousand_steps', async ({ page, server, shot }) => {
  const { run, events } = bigRun(1000);
  await page.route(/\/api\/runs\/big(\/events.*)?$/, (route) => route.fulfill({ status: 200,
    contentType: 'application/json', body: JSON.stringify(route.request().url().includes('/events') ? events : run) }));
  const t0 = Date.now();
  await page.goto(server.url + '#/runs/big');
  await page.locator('.log-tbl tbody tr').first().waitFor();
  console.log(`    1,000 steps, ${events.length} events drawn in ${Date.now() - t0} ms`);
  expect(await page.locator('.g-bar').count() === 1000, 'not a bar per step');
  expect(await page.locator('.log-tbl tbody tr').count() === 500, 'the log draws more than its first 500 rows');
  await page.getByRole('button', { name: 'Show 2,000 more' }).click();
  await waitFor(page, () => document.querySelectorAll('.log-tbl tbody tr').length === 2500, null, 5000, '2,500 rows');
  // three failures shown, the others on demand
  expect(await page.locator('.failures .failure').count() === 3, 'more than 3 failures shown at first');
  await page.getByRole('button', { name: 'Show the 8 other failures' }).click();
  await waitFor(page, () => document.querySelectorAll('.failures .failure').length === 11, null, 5000, 'the 11 failures');
  await page.fill('input[name="search"]', 'boom 970');
  await waitFor(page, () => document.querySelectorAll('.log-tbl tbody tr').length === 1, null, 5000, 'one match');
  await shot('run-thousand-steps-light');
});

await t.case('partition_grid_launches_a_partition_and_a_range', async ({ page, server, shot }) => {
  await page.goto(server.url + '#/assets/iris_daily');
  await waitFor(page, () => document.querySelectorAll('.pcell').length === 7, null, 20000, 'seven partitions');
  expect(await page.locator('.pcell[data-status="missing"]').count() === 7, 'a partition is not missing');
  // a click launches that partition
  await page.locator('.pcell[data-key="2024-01-02"]').click();
  const one = await launchedRun(page);
  const r1 = await ended(server, one);
  expect(r1.status === 'success' && r1.partition === '2024-01-02', `the run is ${JSON.stringify(r1)}`);
  await page.locator('.pcell[data-key="2024-01-02"][data-status="materialized"]').waitFor({ timeout: 30000 });
  // a drag chooses a range, launched by its button
  const a = await page.locator('.pcell[data-key="2024-01-04"]').boundingBox();
  const b = await page.locator('.pcell[data-key="2024-01-06"]').boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + a.width + 4, a.y + a.height / 2, { steps: 4 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.locator('.pgrid-bar code', { hasText: '2024-01-04...2024-01-06' }).waitFor();
  expect(await page.locator('.pcell.sel').count() === 3, 'the range is not 3 cells');
  await shot('asset-partitions-range-light');
  await page.getByRole('button', { name: 'Materialize range' }).click();
  await page.locator('.pg-note', { hasText: 'range 2024-01-04...2024-01-06' }).waitFor();
  const range = await launchedRun(page);
  const r2 = await ended(server, range);
  expect(r2.status === 'success' && r2.partition === '2024-01-04...2024-01-06', `the run is ${JSON.stringify(r2)}`);
  await waitFor(page, () => document.querySelectorAll('.pcell[data-status="materialized"]').length === 4,
    null, 30000, 'four materialized partitions');
  await fullShot(page, shot, 'asset-partitions-light');
  // the header's button materializes every partition, as one range
  await page.getByRole('button', { name: 'Materialize all' }).click();
  await page.locator('#launch .pg-note', { hasText: 'its 7 partitions' }).waitFor();
  const all = (await page.locator('#launch .pg-note a[href^="#/runs/"]').getAttribute('href')).replace('#/runs/', '');
  const r3 = await ended(server, all);
  expect(r3.status === 'success' && r3.partition === '2024-01-01...2024-01-07', `the run is ${JSON.stringify(r3)}`);
  // the rows of each partition, recorded as metadata, show as a table
  await page.locator('#metadata .kv-inner th', { hasText: '2024-01-07' }).waitFor({ timeout: 30000 });
  await waitFor(page, () => document.querySelectorAll('.pcell[data-status="materialized"]').length === 7,
    null, 30000, 'seven materialized partitions');
});

await t.case('asset_page_says_a_refused_launch', async ({ page, server }) => {
  // the server refuses the run before it starts (as it does when there is nothing to run)
  await page.route(/\/api\/runs\/[0-9a-f-]+$/, (route) => (route.request().method() === 'GET'
    ? route.fulfill({ status: 200, contentType: 'application/json',
      body: JSON.stringify({ run_id: 'x', status: 'refused', error: 'nothing to run: every asset is up to date' }) })
    : route.continue()));
  await page.goto(server.url + '#/assets/iris/iris_dataset');
  await page.getByRole('button', { name: 'Materialize', exact: true }).click();
  await page.locator('.pg-error', { hasText: 'nothing to run: every asset is up to date' }).waitFor();
  expect((await page.locator('.pg-error').innerText()).includes('was refused'), 'the refusal is not said');
});

await t.case('dark_theme_screenshots', async ({ page, server, shot }) => {
  const id = await launch(server, { selection: 'not tag:partitioned=yes' });
  await ended(server, id);
  await ended(server, await launch(server, { selection: '+analytics/species_report' }));
  await ended(server, await launch(server, { selection: 'iris_daily', partition: '2024-01-01...2024-01-03' }));
  await page.goto(server.url + '#/assets/iris/iris_dataset');
  await page.locator('.plot canvas').first().waitFor();
  await sleep(300);
  await fullShot(page, shot, 'asset-dark');
  await page.goto(server.url + '#/assets/iris_daily');
  await page.reload();
  await page.locator('.pcell').first().waitFor();
  await fullShot(page, shot, 'asset-partitions-dark');
  await page.goto(server.url + '#/runs');
  await page.reload();
  await page.locator(`tr[data-run="${id}"]`).waitFor();
  await shot('runs-dark');
  await page.goto(server.url + '#/runs/' + id);
  await page.reload();
  await page.locator('.g-bar').first().waitFor();
  await fullShot(page, shot, 'run-dark');
}, { scheme: 'dark', setup: withFailingAsset });

await t.finish();
