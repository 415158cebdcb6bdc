// peer-chdb.mjs EVENTS.csv PARCOURS_FUNNELS.csv RESULT.json [THREADS]
//
// Peer for funnels (spec §5): ClickHouse windowFunnel in its default mode,
// embedded through the npm package chdb, on the same canonical events CSV,
// for the funnel of bench/funnel.ini: visit -> product_view -> add_to_cart ->
// checkout within 7 days. Timestamps are taken as UInt64 microseconds, so
// the window is 604800 * 10^6 and "ts[ik] - ts[i1] <= W" is exact as in
// parcours. Times (wall, s): the CSV load into a Memory table, the funnel on
// that table, and the funnel read straight from the CSV file (load included).
// Compares "customers with level >= k" with parcours' funnels.csv, split (all).
import chdb from 'chdb';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { Session, query } = chdb;
const [csv, pfun, outPath, threadsArg] = process.argv.slice(2);
if (!csv || !pfun || !outPath) {
  console.error('usage: peer-chdb.mjs EVENTS.csv PARCOURS_FUNNELS.csv RESULT.json [THREADS]');
  process.exit(2);
}
const threads = Number(threadsArg || 2);
const steps = ['visit', 'product_view', 'add_to_cart', 'checkout'];
const window_us = 604800n * 1000000n;
const q = (s) => "'" + String(s).replaceAll("'", "''") + "'";
const settings = `SETTINGS max_threads = ${threads}, date_time_input_format = 'best_effort'`;
const schema = "'customer_id String, timestamp DateTime64(6, \\'UTC\\'), channel String, event String, value Nullable(Decimal(18, 6))'";
const src = `file(${q(csv)}, CSVWithNames, ${schema})`;
const funnel = (from) => `SELECT level, count() FROM (
    SELECT customer_id, windowFunnel(${window_us})(toUInt64(toUnixTimestamp64Micro(timestamp)),
      ${steps.map((s) => `event = ${q(s)}`).join(', ')}) AS level
    FROM ${from} GROUP BY customer_id)
  GROUP BY level ORDER BY level ${settings}`;

const dir = mkdtempSync(join(tmpdir(), 'pc-chdb-'));
const sess = new Session(dir);
const version = sess.query('SELECT version()', 'TSV').trim();
const t = {};
let t0 = performance.now();
sess.query(`CREATE TABLE ev ENGINE = Memory AS SELECT customer_id, timestamp, event FROM ${src} ${settings}`);
t.load = (performance.now() - t0) / 1000;
const nEvents = Number(sess.query(`SELECT count() FROM ev`, 'TSV').trim());
t0 = performance.now();
const levels = sess.query(funnel('ev'), 'TSV');
t.funnel = (performance.now() - t0) / 1000;
t0 = performance.now();
const levels2 = sess.query(funnel(src), 'TSV');
t.funnel_from_csv = (performance.now() - t0) / 1000;
sess.close();
rmSync(dir, { recursive: true, force: true });

// customers with level >= k, k = 1..n
const byLevel = new Map(levels.trim().split('\n').map((l) => l.split('\t').map(Number)));
const atLeast = steps.map((_, i) => [...byLevel].filter(([lv]) => lv >= i + 1).reduce((a, [, n]) => a + n, 0));
const customers = [...byLevel.values()].reduce((a, n) => a + n, 0);

const lines = readFileSync(pfun, 'utf8').split('\n').filter((l) => l.length);
const head = lines.shift().split(',');
const prow = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])))
  .filter((r) => r.funnel === 'f4' && r.split === '(all)');
const parcours = steps.map((_, i) => Number((prow.find((r) => Number(r.step) === i + 1) || {}).customers));
const equal = parcours.every((v, i) => v === atLeast[i]) && levels === levels2;

const res = {
  peer: 'chdb', version, threads, csv, events: nEvents, customers,
  load_s: t.load, funnel_s: t.funnel, funnel_from_csv_s: t.funnel_from_csv,
  steps, window_s: 604800, level_ge_k: atLeast, parcours_level_ge_k: parcours, equal,
};
writeFileSync(outPath, JSON.stringify(res, null, 1) + '\n');
console.log(`chdb (ClickHouse ${version}) threads=${threads}: load ${t.load.toFixed(2)} s, ` +
  `windowFunnel ${t.funnel.toFixed(2)} s on the table, ${t.funnel_from_csv.toFixed(2)} s from the CSV; ` +
  `level>=k ${atLeast.join('/')} vs parcours ${parcours.join('/')}: ${equal ? 'equal' : 'DIFFERENT'}`);
