// test_checks.mjs — asset checks in the UI of a real `eider dev` (Chromium), over the
// fixture tests/browser/fixtures/checks: before any run, the lineage node and the
// catalog row of orders show checks never run; after a run launched through the API,
// the node's badge and the catalog's say failed (without a reload: the page learns it
// from the live stream), and the asset page lists each check with its outcome, the
// warning's failing row, the failure's message, and the check history. Screenshots go
// to BUILD/screenshots/.
import fs from 'node:fs';
import path from 'node:path';
import { suite, expect, waitFor, api, ended, SRC } from './harness.mjs';

const FIXTURE = path.join(SRC, 'tests/browser/fixtures/checks');

function copyFixture(dir) {
  fs.copyFileSync(path.join(FIXTURE, 'definitions.c'), path.join(dir, 'definitions.c'));
}

const t = await suite('checks');

await t.case('check_status_shows_on_the_graph_the_catalog_and_the_asset_page', async ({ page, server, shot }) => {
  await page.goto(server.url);
  const before = await waitFor(page, () => {
    const n = window.__eiderLineage && window.__eiderLineage.nodes();
    const o = n && n.find((x) => x.key === 'orders');
    return o && o.status ? o : null;
  }, null, 20000, 'the lineage graph');
  expect(before.checks === 'unknown', `orders' checks before a run: ${before.checks}`);
  const customers = await page.evaluate(() => window.__eiderLineage.nodes().find((x) => x.key === 'customers'));
  expect(customers.checks === null, `customers has no checks, but shows ${customers.checks}`);

  const { run_id: id } = await api(server, 'POST', '/api/runs', {});
  const run = await ended(server, id);
  expect(run.status === 'success', `the run ended ${run.status}: a check that does not block fails nothing`);
  await waitFor(page, () => window.__eiderLineage.nodes().find((x) => x.key === 'orders').checks === 'failed',
    null, 20000, "the lineage to show orders' checks failed");
  await shot('lineage-checks-failed');

  await page.goto(server.url + '#/assets');
  await page.locator('.row[data-key="orders"] .chk[data-checks="failed"]').waitFor();
  expect(await page.locator('.row[data-key="customers"] .chk').count() === 0, 'customers shows a check badge');

  await page.goto(server.url + '#/assets/orders');
  const checks = page.locator('#checks');
  await checks.locator('tr.check-row').first().waitFor();
  const statusOf = async (name) => checks.locator(`tr.check-row[data-check="${name}"] [data-check-status]`)
    .getAttribute('data-check-status');
  expect(await statusOf('unique_id') === 'passed', 'unique_id did not pass');
  expect(await statusOf('not_null_customer') === 'failed', 'not_null_customer did not fail');
  expect(await statusOf('at_most_3') === 'failed', 'at_most_3 did not fail');
  const text = await checks.textContent();
  expect(text.includes('5 rows, expected 0 to 3'), `the failure's message is not shown: ${text}`);
  expect(text.includes('warn'), 'the warning\'s severity is not shown');
  // the warning's failing row (order 3, no customer), as a table
  const sample = checks.locator('.check-sample table');
  await sample.waitFor();
  const cells = await sample.locator('tbody td').allTextContents();
  expect(cells.includes('3') && cells.includes('NULL'), `the failing row is not shown: ${cells.join(' | ')}`);
  const hist = page.locator('#check-history tbody tr');
  expect(await hist.count() === 3, `the check history has ${await hist.count()} rows, not 3`);
  await shot('asset-checks');
}, { setup: copyFixture });

await t.finish();
