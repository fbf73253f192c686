// test_select.mjs — the page's selection syntax (ui/lib/select.js), which highlights
// on the graph and filters the catalog, against cases of tests/select/golden.txt (the
// server's parser) over the same fixture graph: what each expression selects, and the
// error each bad one names. Runs in node, without a browser.
import { compile, selectionGraph, keysSelection } from '../../ui/lib/select.js';

const A = (key, deps, o = {}) => ({
  key, deps, group: o.group, kinds: o.kinds || [], tags: o.tags || {}, owners: o.owners || [], status: o.status,
});
// golden.txt's fixture
const assets = [
  A('iris/raw_csv', [], { group: 'ingest', kinds: ['csv'], owners: ['team:data'], status: 'external' }),
  A('iris/iris_dataset', ['iris/raw_csv'], { group: 'ingest', kinds: ['duckdb', 'python'], tags: { tier: 'bronze' }, owners: ['team:data'] }),
  A('iris/iris_setosa', ['iris/iris_dataset'], { group: 'analytics', kinds: ['duckdb', 'sql'], tags: { tier: 'silver' }, status: 'fresh' }),
  A('iris/iris_virginica', ['iris/iris_dataset'], { group: 'analytics', kinds: ['duckdb'], tags: { tier: 'silver', pii: '' }, status: 'stale' }),
  A('iris/species_summary', ['iris/iris_setosa', 'iris/iris_virginica'], { group: 'analytics', kinds: ['sql'], tags: { tier: 'gold' }, owners: ['ada@example.com'], status: 'fresh' }),
  A('report', ['iris/species_summary'], { group: 'reporting', kinds: ['python'], owners: ['ada@example.com', 'team:data'], status: 'fresh' }),
  A('dashboard', ['report', 'weather/daily'], { group: 'reporting', tags: { tier: 'gold' }, status: 'failed' }),
  A('weather/raw', [], { group: 'ingest', tags: { domain: 'weather' }, status: 'external' }),
  A('weather/daily', ['weather/raw'], { group: 'ingest', tags: { domain: 'weather', 'has space': 'x y' }, status: 'fresh' }),
  A('v1.2-metrics', ['weather/daily'], { group: 'misc', status: 'fresh' }),
  A('standalone', [], { group: 'misc', status: 'fresh' }),
  A('odd key', [], { group: 'misc', status: 'fresh' }),
];
const g = selectionGraph(assets);

const selects = `
*                                  =>  dashboard iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/raw_csv iris/species_summary odd key report standalone v1.2-metrics weather/daily weather/raw
not *                              =>  (none)
iris/iris_setosa                   =>  iris/iris_setosa
v1.2-metrics                       =>  v1.2-metrics
"odd key"                          =>  odd key
(((report)))                       =>  report
key:"odd key"                      =>  odd key
*report                            =>  iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/raw_csv iris/species_summary report
report*                            =>  dashboard report
*weather/daily*                    =>  dashboard v1.2-metrics weather/daily weather/raw
+iris/species_summary              =>  iris/iris_setosa iris/iris_virginica iris/species_summary
++iris/species_summary             =>  iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/species_summary
2+iris/species_summary             =>  iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/species_summary
iris/raw_csv+3                     =>  iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/raw_csv iris/species_summary
+report+                           =>  dashboard iris/species_summary report
0+report                           =>  report
+(report or weather/daily)         =>  iris/species_summary report weather/daily weather/raw
group:reporting*                   =>  dashboard report
*(kind:python)                     =>  iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/raw_csv iris/species_summary report
group:"analytics"                  =>  iris/iris_setosa iris/iris_virginica iris/species_summary
not group:misc and group:reporting and sinks()   =>  dashboard
tag:tier=silver                    =>  iris/iris_setosa iris/iris_virginica
tag:tier                           =>  dashboard iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/species_summary
tag:"has space"="x y"              =>  weather/daily
tag:pii=""                         =>  iris/iris_virginica
owner:team:data                    =>  iris/iris_dataset iris/raw_csv report
key:iris/*                         =>  iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/raw_csv iris/species_summary
key:*_s*                           =>  iris/iris_setosa iris/species_summary
key:*daily                         =>  weather/daily
report, standalone, "odd key"      =>  odd key report standalone
standalone or group:analytics and kind:sql     =>  iris/iris_setosa iris/species_summary standalone
not (report or standalone)         =>  dashboard iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/raw_csv iris/species_summary odd key v1.2-metrics weather/daily weather/raw
NOT report AND Not standalone      =>  dashboard iris/iris_dataset iris/iris_setosa iris/iris_virginica iris/raw_csv iris/species_summary odd key v1.2-metrics weather/daily weather/raw
report   or(standalone)            =>  report standalone
roots()                            =>  iris/raw_csv odd key standalone weather/raw
roots(group:analytics)             =>  iris/iris_setosa iris/iris_virginica
sinks(group:analytics)             =>  iris/species_summary
roots(*report)                     =>  iris/raw_csv
+sinks(kind:sql)                   =>  iris/iris_setosa iris/iris_virginica iris/species_summary
stale()                            =>  dashboard iris/iris_dataset iris/iris_virginica
iris/iris_datset                   =>  error: unknown asset 'iris/iris_datset'
iris_setosa                        =>  error: unknown asset 'iris_setosa' (did you mean 'iris/iris_setosa'?)
report and (standalone             =>  error: at column 23: expected ')' to close the '(' at column 12
((((                               =>  error: at column 5: expected an asset key
tag:                               =>  error: expected a value after 'tag:'
tag:tier=                          =>  error: expected a tag value after '='
"unterminated                      =>  error: at column 1: unterminated string
+++++                              =>  error: at column 6: expected an asset key
report standalone                  =>  error: unexpected 'standalone': join selections with 'and', 'or' or ','
report)                            =>  error: unexpected ')': remove it
()                                 =>  error: unexpected ')': expected an asset key
report and                         =>  error: at column 11: expected an asset key
and report                         =>  error: unexpected 'and'
group:nope                         =>  error: unknown group 'nope'
kind:rust                          =>  error: unknown kind 'rust'
color:red                          =>  error: unknown filter 'color:': use key:, group:, tag:, kind: or owner:
frobnicate(report)                 =>  error: unexpected '('
report # x                         =>  error: at column 8: unexpected character '#'
report**                           =>  error: unexpected '*'
report (standalone)                =>  error: at column 8: unexpected '('
roots                              =>  error: at column 6: expected '(' after 'roots'
`;

let passed = 0, failed = 0;
for (const line of selects.split('\n')) {
  if (!line.trim()) continue;
  const [expr, want] = line.split(/\s+=>\s+/);
  let got;
  try {
    const keys = [...compile(expr.trim())(g)].map((i) => g.keys[i]).sort();
    got = keys.length ? keys.join(' ') : '(none)';
  } catch (e) {
    got = 'error: ' + e.message;
  }
  const ok = want.startsWith('error: ') ? got.startsWith('error: ') && got.includes(want.slice(7)) : got === want;
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${expr.trim()}\n    expected: ${want}\n    got:      ${got}`);
  }
}
// the text a click on the graph puts in the box selects exactly those keys
const picked = ['odd key', 'v1.2-metrics', 'iris/iris_setosa'];
const back = [...compile(keysSelection(picked))(g)].map((i) => g.keys[i]).sort();
if (back.join('|') === picked.slice().sort().join('|')) passed++;
else {
  failed++;
  console.log(`FAIL keysSelection(${picked}) = ${keysSelection(picked)} selects ${back}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
