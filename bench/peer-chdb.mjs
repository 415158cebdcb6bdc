// peer-chdb.mjs EVENTS.csv PARCOURS_FUNNELS.csv RESULT.json [THREADS]
//
// Peer for funnels (spec §5): ClickHouse windowFunnel, embedded through the
// npm package chdb, on the same canonical events CSV, for every funnel of
// bench/funnel.ini (the default definition and its modes), each as
// windowFunnel(W, mode...) with W in µs: timestamps are taken as UInt64
// microseconds, so "ts(ek) - ts(e1) <= W" is exact as in parcours. Times
// (wall, s, and CPU-s of the process, steadier on a shared machine): the
// CSV load into a Memory table, each funnel on that table, all funnels in
// one query on the table, and the default funnel read straight from the
// CSV file (load included). Compares "customers with
// level >= k" with parcours' funnels.csv, split (all), funnel by funnel.
import chdb from 'chdb';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const { Session } = chdb;
const [csv, pfun, outPath, threadsArg] = process.argv.slice(2);
if (!csv || !pfun || !outPath) {
  console.error('usage: peer-chdb.mjs EVENTS.csv PARCOURS_FUNNELS.csv RESULT.json [THREADS]');
  process.exit(2);
}
const threads = Number(threadsArg || 2);

// [funnel.NAME] groups of bench/funnel.ini: steps, window (s), mode
function funnelsOf(ini) {
  const out = [];
  let cur = null;
  for (const raw of readFileSync(ini, 'utf8').split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    const g = l.match(/^\[(.*)\]$/);
    if (g) { cur = g[1].startsWith('funnel.') ? { name: g[1].slice(7), mode: [] } : null; if (cur) out.push(cur); continue; }
    const kv = l.match(/^([a-z_]+)\s*=\s*(.*)$/);
    if (!cur || !kv) continue;
    const list = kv[2].split(';').map((s) => s.trim()).filter(Boolean);
    if (kv[1] === 'steps') cur.steps = list;
    else if (kv[1] === 'window') cur.window_s = Number(kv[2]);
    else if (kv[1] === 'mode') cur.mode = list;
  }
  return out;
}
const funnels = funnelsOf(join(dirname(fileURLToPath(import.meta.url)), 'funnel.ini'));

const q = (s) => "'" + String(s).replaceAll("'", "''") + "'";
const settings = `SETTINGS max_threads = ${threads}, date_time_input_format = 'best_effort'`;
const schema = "'customer_id String, timestamp DateTime64(6, \\'UTC\\'), channel String, event String, value Nullable(Decimal(18, 6))'";
const src = `file(${q(csv)}, CSVWithNames, ${schema})`;
const wf = (f) => `windowFunnel(${BigInt(f.window_s) * 1000000n}${f.mode.map((m) => ', ' + q(m)).join('')})(` +
  `toUInt64(toUnixTimestamp64Micro(timestamp)), ${f.steps.map((s) => `event = ${q(s)}`).join(', ')})`;
const funnel = (f, from) => `SELECT level, count() FROM (
    SELECT customer_id, ${wf(f)} AS level FROM ${from} GROUP BY customer_id)
  GROUP BY level ORDER BY level ${settings}`;
const allInOne = (from) => `SELECT ${funnels.map((f, i) => `sum(l${i} >= 1)`).join(', ')} FROM (
    SELECT customer_id, ${funnels.map((f, i) => `${wf(f)} AS l${i}`).join(', ')} FROM ${from} GROUP BY customer_id) ${settings}`;

const dir = mkdtempSync(join(tmpdir(), 'pc-chdb-'));
const sess = new Session(dir);
const version = sess.query('SELECT version()', 'TSV').trim();
const t = {};
let t0 = performance.now();
sess.query(`CREATE TABLE ev ENGINE = Memory AS SELECT customer_id, timestamp, event FROM ${src} ${settings}`);
t.load = (performance.now() - t0) / 1000;
const nEvents = Number(sess.query(`SELECT count() FROM ev`, 'TSV').trim());

const lines = readFileSync(pfun, 'utf8').split('\n').filter((l) => l.length);
const head = lines.shift().split(',');
const prows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
const per = [];
let customers = 0;
const cpu = (c0) => { const d = process.cpuUsage(c0); return (d.user + d.system) / 1e6; };
for (const f of funnels) {
  t0 = performance.now();
  const c0 = process.cpuUsage();
  const levels = sess.query(funnel(f, 'ev'), 'TSV');
  const secs = (performance.now() - t0) / 1000, cpuS = cpu(c0);
  const byLevel = new Map(levels.trim().split('\n').map((l) => l.split('\t').map(Number)));
  const atLeast = f.steps.map((_, i) => [...byLevel].filter(([lv]) => lv >= i + 1).reduce((a, [, n]) => a + n, 0));
  customers = [...byLevel.values()].reduce((a, n) => a + n, 0);
  const mine = prows.filter((r) => r.funnel === f.name && r.split === '(all)');
  const parcours = f.steps.map((_, i) => Number((mine.find((r) => Number(r.step) === i + 1) || {}).customers));
  per.push({ name: f.name, mode: f.mode, funnel_s: secs, funnel_cpu_s: cpuS, level_ge_k: atLeast, parcours_level_ge_k: parcours,
    equal: parcours.every((v, i) => v === atLeast[i]) });
}
t0 = performance.now();
const c1 = process.cpuUsage();
sess.query(allInOne('ev'), 'TSV');
t.all_in_one = (performance.now() - t0) / 1000;
t.all_in_one_cpu = cpu(c1);
t0 = performance.now();
sess.query(funnel(funnels[0], src), 'TSV');
t.funnel_from_csv = (performance.now() - t0) / 1000;
sess.close();
rmSync(dir, { recursive: true, force: true });

const equal = per.every((p) => p.equal);
const funnelSum = per.reduce((a, p) => a + p.funnel_s, 0);
const funnelCpu = per.reduce((a, p) => a + p.funnel_cpu_s, 0);
const res = {
  peer: 'chdb', version, threads, csv, events: nEvents, customers,
  load_s: t.load, funnel_s: funnelSum, funnel_cpu_s: funnelCpu, funnels_all_in_one_s: t.all_in_one,
  funnels_all_in_one_cpu_s: t.all_in_one_cpu, funnel_from_csv_s: t.funnel_from_csv,
  funnels: per, equal,
};
writeFileSync(outPath, JSON.stringify(res, null, 1) + '\n');
console.log(`chdb (ClickHouse ${version}) threads=${threads}: load ${t.load.toFixed(2)} s, ` +
  `windowFunnel ${per.map((p) => `${p.name} ${p.funnel_s.toFixed(2)} s`).join(', ')} (sum ${funnelSum.toFixed(2)} s, ` +
  `${funnelCpu.toFixed(2)} CPU-s, ` +
  `all in one query ${t.all_in_one.toFixed(2)} s), default funnel from the CSV ${t.funnel_from_csv.toFixed(2)} s; ` +
  `level>=k equal to parcours for ${per.filter((p) => p.equal).length} of ${per.length} funnels: ${equal ? 'equal' : 'DIFFERENT'}`);
