// windowfunnel.mjs - the differential test of spec §5 against ClickHouse
// itself (chDB, embedded ClickHouse): `make conformance` runs it.
//
//   node tests/conformance/windowfunnel.mjs [--cases N] [--seed S] [--out RESULT.json]
//
// 1. Hand cases: tests/unit/funnel_cases.h (printed by funnel_levels --hand)
//    must give their written level in parcours AND in ClickHouse.
// 2. Random journeys: batches of customers (ties, repeats, events matching
//    no step, gaps at the window's edge), every mode combination ClickHouse
//    accepts (24) plus the default (no mode; equal to ClickHouse's default
//    when the steps are distinct, spec §5): the level of every customer from
//    parcours' kernels (bin/conformance/funnel_levels) and from
//    windowFunnel(W, modes...)(ts, ev = s1, ...) GROUP BY customer.
// 3. End to end: one batch as a CSV through `parcours ingest` and `parcours
//    run` with one [funnel.*] per mode combination: funnels.csv (all) =
//    ClickHouse's customers with level >= k.
// Prints a summary, writes RESULT.json (cases, combinations, mismatches),
// exits 1 on any mismatch. Needs bench/node_modules (npm chdb).
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const chdb = createRequire(join(root, 'bench/package.json'))('chdb');
const args = Object.fromEntries(process.argv.slice(2).reduce((a, x, i, v) =>
  (x.startsWith('--') ? [...a, [x.slice(2), v[i + 1]]] : a), []));
const nCases = Number(args.cases || 150000);
let seed = BigInt(args.seed || 20260711);
const out = args.out || join(root, 'tests/conformance/last-result.json');
const tool = join(root, 'bin/conformance/funnel_levels');
const MODES = ['strict_order', 'strict_deduplication', 'strict_increase', 'strict_once', 'allow_reentry'];

// every combination ClickHouse accepts: allow_reentry only with strict_order
const combos = [];
for (let b = 0; b < 32; b++) {
  if ((b & 16) && !(b & 1)) continue;
  combos.push(MODES.filter((_, i) => b & (1 << i)));
}

function rnd(n) { // LCG, reproducible from --seed
  seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
  return Number((seed >> 33n) % BigInt(n));
}
const pick = (v) => v[rnd(v.length)];

const dir = mkdtempSync(join(tmpdir(), 'pc-wf-'));
const sess = new chdb.Session(join(dir, 'ch'));
const version = sess.query('SELECT version()', 'TSV').trim();
const sq = (s) => "'" + s.replaceAll("'", "''") + "'";

function parcoursLevels(lines, scale) {
  const o = execFileSync(tool, ['--scale', String(scale)], { input: lines.join('\n') + '\n', maxBuffer: 1 << 30 });
  return new Map(o.toString().trim().split('\n').filter(Boolean).map((l) => l.split('\t')).map(([id, v]) => [id, Number(v)]));
}

// ClickHouse levels of customers (id -> events) for one (window, modes, steps)
function chLevels(custs, window, modes, steps) {
  const rows = [];
  for (const [id, evs] of custs) for (const [ts, name] of evs) rows.push(`(${sq(id)},${ts},${sq(name)})`);
  const params = [String(window), ...modes.map(sq)].join(', ');
  const conds = steps.map((s) => `ev = ${sq(s)}`).join(', ');
  const q = `SELECT cid, windowFunnel(${params})(ts, ${conds}) FROM values('cid String, ts UInt64, ev String', ${rows.join(',')}) GROUP BY cid`;
  const r = sess.query(q, 'TSV');
  return new Map(r.trim().split('\n').filter(Boolean).map((l) => l.split('\t')).map(([id, v]) => [id, Number(v)]));
}

const parseEvents = (s) => s.split(' ').filter(Boolean).map((x) => { const i = x.indexOf(':'); return [x.slice(0, i), x.slice(i + 1)]; });

// ---- 1. hand cases ----
const hand = execFileSync(tool, ['--hand']).toString().trim().split('\n').map((l) => l.split('\t'));
const handBad = [];
const pHand = parcoursLevels(hand.map((f) => f.slice(0, 5).join('\t')), 1000000);
for (const [name, w, mode, steps, events, level] of hand) {
  const modes = mode === '-' ? [] : mode.split(';');
  const ch = chLevels(new Map([['c', parseEvents(events)]]), w, modes, steps.split(',')).get('c') ?? 0;
  const p = pHand.get(name);
  if (ch !== Number(level) || p !== Number(level)) handBad.push({ name, mode, steps, events, expected: Number(level), clickhouse: ch, parcours: p });
}
console.log(`hand cases: ${hand.length}, ClickHouse and parcours both equal the written level: ${hand.length - handBad.length}`);
for (const b of handBad) console.log('  HAND MISMATCH', JSON.stringify(b));

// ---- 2. random journeys ----
const ALPHA = ['a', 'b', 'c', 'd', 'e'];
function batch(b, fixed = {}) {
  const nSteps = fixed.steps || 1 + rnd(5);
  const steps = [...ALPHA].sort(() => rnd(3) - 1).slice(0, nSteps);
  const window = fixed.window ?? pick([0, 1, 3, 5, 10, 100, 1000000]);
  const names = [...ALPHA, 'x', 'y']; // x, y: no step (maybe) ever
  const custs = new Map();
  const nCust = fixed.customers || 40 + rnd(80);
  for (let c = 0; c < nCust; c++) {
    const n = 1 + rnd(rnd(4) === 0 ? 24 : 10);
    let ts = 1000000 + rnd(50);
    const evs = [];
    for (let i = 0; i < n; i++) {
      evs.push([ts, pick(rnd(4) === 0 ? names : steps.concat(names.slice(0, 2)))]);
      ts += pick([0, 0, 0, 1, 1, 2, window, window, window + 1, Math.max(window - 1, 0), rnd(2 * window + 3)]);
    }
    for (let i = evs.length - 1; i > 0; i--) { const j = rnd(i + 1); [evs[i], evs[j]] = [evs[j], evs[i]]; }
    custs.set(`b${b}c${c}`, evs);
  }
  return { steps, window, custs };
}

let cases = 0, batches = 0;
const mism = [];
const perCombo = new Map(combos.map((m) => [m.join(';') || '(default)', 0]));
while (cases < nCases) {
  const { steps, window, custs } = batch(batches++);
  const lines = [];
  combos.forEach((modes, k) => {
    for (const [id, evs] of custs)
      lines.push([`${id}m${k}`, window, modes.join(';') || '-', steps.join(','), evs.map(([t, e]) => `${t}:${e}`).join(' ')].join('\t'));
  });
  const p = parcoursLevels(lines, 1);
  combos.forEach((modes, k) => {
    const ch = chLevels(custs, window, modes, steps);
    for (const [id, evs] of custs) {
      const a = p.get(`${id}m${k}`), c = ch.get(id) ?? 0;
      cases++;
      if (a !== c) {
        mism.push({ modes: modes.join(';') || '(default)', window, steps: steps.join(','), events: evs.map(([t, e]) => `${t}:${e}`).join(' '), parcours: a, clickhouse: c });
        perCombo.set(modes.join(';') || '(default)', perCombo.get(modes.join(';') || '(default)') + 1);
      }
    }
  });
}
console.log(`random: ${batches} batches, ${cases} cases (customer x mode combination), ${combos.length} combinations, mismatches ${mism.length}`);
for (const m of mism.slice(0, 15)) console.log('  MISMATCH', JSON.stringify(m));

// ---- 3. end to end through parcours ingest and run ----
// The batch's unit becomes the second: timestamps as epoch seconds in the
// CSV, the window in seconds in the job; ClickHouse gets the same numbers.
function endToEnd() {
  const { steps, window, custs } = batch(batches, { steps: 4, window: 5, customers: 400 });
  const csv = ['customer_id,timestamp,channel,event,value'];
  for (const [id, evs] of custs) for (const [ts, e] of evs) csv.push(`${id},${ts},web,${e},`);
  writeFileSync(join(dir, 'ev.csv'), csv.join('\n') + '\n');
  const ini = [`[input]\nstore = ${join(dir, 'store')}\n[output]\ndir = ${join(dir, 'out')}\n[model]\nenabled = false\n`];
  const fname = (k) => `m${String(k).padStart(2, '0')}`;
  combos.forEach((modes, k) => ini.push(`[funnel.${fname(k)}]\nsteps = ${steps.join(';')}\nwindow = ${window}\n${modes.length ? `mode = ${modes.join('; ')}\n` : ''}`));
  writeFileSync(join(dir, 'job.ini'), ini.join('\n'));
  execFileSync(join(root, 'bin/parcours'), ['ingest', '-q', '-o', join(dir, 'store'), join(dir, 'ev.csv')]);
  execFileSync(join(root, 'bin/parcours'), ['run', '-q', join(dir, 'job.ini')]);
  const rows = readFileSync(join(dir, 'out/csv/funnels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  let bad = 0, n = 0;
  combos.forEach((modes, k) => {
    const ch = chLevels(custs, window, modes, steps);
    steps.forEach((_, s) => {
      const want = [...ch.values()].filter((v) => v >= s + 1).length;
      const row = rows.find((r) => r[0] === fname(k) && r[1] === '(all)' && Number(r[2]) === s + 1);
      const got = row ? Number(row[4]) : -1;
      n++;
      if (want !== got) { bad++; console.log(`  E2E MISMATCH mode ${modes.join(';')} step ${s + 1}: parcours ${got}, ClickHouse ${want}`); }
    });
  });
  return { customers: custs.size, rows: n, mismatches: bad };
}
const e2e = endToEnd();
console.log(`end to end: ${e2e.customers} customers, ${e2e.rows} funnel rows (${combos.length} funnels), mismatches ${e2e.mismatches}`);

sess.close();
rmSync(dir, { recursive: true, force: true });
const result = {
  clickhouse: version, chdb: '3.4.0', seed: String(args.seed || 20260711),
  hand_cases: hand.length, hand_mismatches: handBad.length,
  cases, batches, combinations: combos.length, mismatches: mism.length,
  mismatches_by_combination: Object.fromEntries(perCombo),
  end_to_end: e2e, examples: mism.slice(0, 50),
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
process.exit(handBad.length || mism.length || e2e.mismatches ? 1 : 0);
