// peer-duckdb.mjs EVENTS.csv PARCOURS_CSV_DIR RESULT.json [THREADS] [TOP]
//
// Peer for the path tables of spec §3 (token event, unit customer, no
// collapse): DuckDB SQL through @duckdb/node-api on the same canonical events
// CSV that parcours ingested. Times the CSV load and each analysis separately
// (wall clock, ms), then checks its tables against parcours' variants.csv,
// ngrams.csv (top TOP rows, default all rows parcours wrote) and
// transitions.csv (all rows) and writes everything to RESULT.json.
// Peak RSS is measured from outside (bench/run-all wraps node in GNU time).
//
// Assumption: timestamps in the ISO form with a `Z` zone (what `parcours
// generate --csv` writes); the journey order is spec §2's key
// (timestamp, event, channel, value), DuckDB's default binary collation.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, writeFileSync } from 'node:fs';

const [csv, pdir, outPath, threadsArg, topArg] = process.argv.slice(2);
if (!csv || !pdir || !outPath) {
  console.error('usage: peer-duckdb.mjs EVENTS.csv PARCOURS_CSV_DIR RESULT.json [THREADS] [TOP]');
  process.exit(2);
}
const threads = Number(threadsArg || 2);
const top = Number(topArg || 0);
const q = (s) => "'" + String(s).replaceAll("'", "''") + "'";

const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await inst.connect();
const ver = (await con.runAndReadAll('SELECT version()')).getRows()[0][0];
const times = {};
async function timed(name, sql) {
  const t0 = performance.now();
  await con.run(sql);
  times[name] = (performance.now() - t0) / 1000;
}
async function rows(sql) { return (await con.runAndReadAll(sql)).getRows(); }

await timed('load', `CREATE TABLE ev AS
  SELECT customer_id AS c,
         epoch_us(replace("timestamp", 'Z', '')::TIMESTAMP) AS ts,
         channel AS ch, event AS e, coalesce(value, 0) AS v
  FROM read_csv(${q(csv)}, header = true, delim = ',', quote = '', escape = '',
       columns = {'customer_id': 'VARCHAR', 'timestamp': 'VARCHAR',
                  'channel': 'VARCHAR', 'event': 'VARCHAR', 'value': 'DECIMAL(18,6)'})`);
const nEvents = Number((await rows('SELECT count(*) FROM ev'))[0][0]);

// Variants: the whole sorted token list of each customer.
await timed('variants', `CREATE TABLE var AS
  SELECT seq, count(*) AS cnt FROM (
    SELECT list(e ORDER BY ts, e, ch, v) AS seq FROM ev GROUP BY c)
  GROUP BY seq`);
// Journeys: one sort (window) shared by n-grams and transitions.
await timed('journeys', `CREATE TABLE j AS
  SELECT c, e, ts,
         row_number() OVER w AS pos,
         lead(e, 1) OVER w AS e2, lead(e, 2) OVER w AS e3, lead(ts, 1) OVER w AS ts2
  FROM ev WINDOW w AS (PARTITION BY c ORDER BY ts, e, ch, v)`);
await timed('ngrams', `CREATE TABLE ng AS
  WITH w AS (
    SELECT 1 AS n, [e] AS seq, c FROM j
    UNION ALL SELECT 2, [e, e2], c FROM j WHERE e2 IS NOT NULL
    UNION ALL SELECT 3, [e, e2, e3], c FROM j WHERE e3 IS NOT NULL),
  pc AS (SELECT n, seq, c, count(*) AS k FROM w GROUP BY n, seq, c)
  SELECT n, seq, sum(k)::BIGINT AS occ, count(*) AS cust FROM pc GROUP BY n, seq`);
await timed('transitions', `CREATE TABLE tr AS
  SELECT f, t, count(*) AS cnt, sum(gap)::HUGEINT AS gsum FROM (
    SELECT e AS f, e2 AS t, ts2 - ts AS gap FROM j WHERE e2 IS NOT NULL
    UNION ALL SELECT '^', e, NULL FROM j WHERE pos = 1
    UNION ALL SELECT e, '$', NULL FROM j WHERE e2 IS NULL)
  GROUP BY f, t`);
const analyses = times.variants + times.journeys + times.ngrams + times.transitions;

// ---- comparison with parcours' CSV tables ------------------------------------
function readCsv(name) {
  const lines = readFileSync(`${pdir}/${name}`, 'utf8').split('\n').filter((l) => l.length);
  const head = lines.shift().split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
}
const cmp = {};
function check(name, want, got, keys, relKeys = []) {
  const n = top ? Math.min(top, want.length) : want.length;
  let bad = 0, first = null;
  for (let i = 0; i < n; i++) {
    const a = want[i], b = got[i];
    let ok = !!b && keys.every((k) => String(a[k]) === String(b[k]));
    for (const k of relKeys) {
      if (!ok) break;
      if (a[k] === '' || b[k] === '') { ok = a[k] === b[k]; continue; }
      const x = Number(a[k]), y = Number(b[k]);
      ok = Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x));
    }
    if (!ok) { bad++; if (!first) first = { row: i + 1, parcours: a, duckdb: b || null }; }
  }
  cmp[name] = { rows_compared: n, mismatches: bad, first_mismatch: first, ok: bad === 0 };
}
const P = (seq) => seq.join(' > ');
const topK = readCsv('variants.csv').length;
const vrows = (await rows(`SELECT seq, cnt FROM var ORDER BY cnt DESC, seq ASC LIMIT ${topK}`))
  .map(([seq, cnt]) => ({ journeys: Number(cnt), path: P(seq.items) }));
check('variants', readCsv('variants.csv'), vrows, ['journeys', 'path']);

const pn = readCsv('ngrams.csv');
const grows = (await rows(`SELECT n, seq, occ, cust FROM ng
    QUALIFY row_number() OVER (PARTITION BY n ORDER BY occ DESC, cust DESC, seq ASC) <= ${topK}
    ORDER BY n, occ DESC, cust DESC, seq ASC`))
  .map(([n, seq, occ, cust]) => ({ n: Number(n), occurrences: Number(occ), customers: Number(cust), path: P(seq.items) }));
check('ngrams', pn, grows, ['n', 'occurrences', 'customers', 'path']);

const trows = (await rows(`SELECT f, t, cnt, cnt / sum(cnt) OVER (PARTITION BY f),
    CASE WHEN gsum IS NULL THEN NULL ELSE gsum::DOUBLE / (cnt * 1e6) END
    FROM tr ORDER BY f ASC, cnt DESC, t ASC`))
  .map(([f, t, cnt, p, g]) => ({ from: f, to: t, count: Number(cnt), probability: Number(p), mean_gap_s: g === null ? '' : Number(g) }));
check('transitions', readCsv('transitions.csv'), trows, ['from', 'to', 'count'], ['probability', 'mean_gap_s']);

const res = {
  peer: 'duckdb', version: ver, threads, csv, events: nEvents,
  load_s: times.load, analyses_s: analyses, times_s: times,
  comparison: cmp, all_equal: Object.values(cmp).every((c) => c.ok),
};
writeFileSync(outPath, JSON.stringify(res, null, 1) + '\n');
console.log(`duckdb ${ver} threads=${threads}: load ${times.load.toFixed(2)} s, ` +
  `variants ${times.variants.toFixed(2)} s, journeys(sort) ${times.journeys.toFixed(2)} s, ` +
  `ngrams ${times.ngrams.toFixed(2)} s, transitions ${times.transitions.toFixed(2)} s, ` +
  `analyses ${analyses.toFixed(2)} s; equal to parcours: ` +
  Object.entries(cmp).map(([k, c]) => `${k} ${c.ok ? 'yes' : 'NO'} (${c.rows_compared} rows)`).join(', '));
