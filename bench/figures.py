#!/usr/bin/env python3
"""figures.py - the bookkeeping of bench/run-all (standard library only).

  figures.py record FIG.jsonl --step S --size Z --ranks R --threads T --wall W
             --events N [--rssdir DIR] [--runjson RUN.json] [--peer PEER.json]
             [--peer-rss KIB] [--load L0,L1]
      compute the figures of one measured step, append them as one JSON line
      to FIG.jsonl and print them as one human line.
  figures.py project FIG.jsonl STEP EVENTS
      print the bytes (all ranks) STEP would need at EVENTS events, scaled
      from the last record of STEP (0 if none): the memory guard of run-all.
  figures.py best REPS.jsonl FIG.jsonl
      append the fastest record of REPS.jsonl (BENCH_REPEAT runs) to FIG.jsonl.
  figures.py table FIG.jsonl...
      print the Markdown tables of docs/bench.md from one or more FIG.jsonl.

Figures (docs/bench.md explains them):
  wall_s            end-to-end wall clock of the command (mpirun included)
  ev_s_core         events / wall_s / (ranks * threads)
  ev_cpu_s          events / (user + sys CPU seconds of all ranks): less
                    sensitive to other jobs sharing the cores than ev_s_core
  rss_mib[r]        peak RSS of rank r (GNU time in bench/rankwrap)
  b_per_ev          max over ranks of peak RSS(rank) / events(rank)
  phases            run.json "phases" (max over ranks, seconds)
"""
import json
import os
import sys


def _rss(dirname):
    ranks = []
    if not dirname or not os.path.isdir(dirname):
        return ranks
    for name in sorted(os.listdir(dirname), key=lambda n: int(n.split('.')[-1])):
        if not name.startswith('rank.'):
            continue
        with open(os.path.join(dirname, name)) as f:
            last = [l for l in f.read().split('\n') if l.strip()][-1].split()
        ranks.append({'rss_kib': int(last[0]), 'wall': float(last[1]),
                      'user': float(last[2]), 'sys': float(last[3])})
    return ranks


def record(argv):
    out, args = argv[0], {}
    it = iter(argv[1:])
    for k in it:
        args[k.lstrip('-').replace('-', '_')] = next(it)
    ranks, threads = int(args['ranks']), int(args['threads'])
    wall, events = float(args['wall']), int(args['events'])
    rec = {'step': args['step'], 'size': args['size'], 'ranks': ranks,
           'threads': threads, 'wall_s': wall, 'events': events,
           'load': args.get('load', '')}
    rec['ev_s_core'] = events / wall / (ranks * threads) if wall > 0 else None
    per = _rss(args.get('rssdir'))
    ev_rank = [events / max(1, ranks)] * max(1, len(per))
    if args.get('runjson'):
        with open(args['runjson']) as f:
            run = json.load(f)
        rec['phases'] = run.get('phases')
        rec['phases_per_rank'] = run.get('phases_per_rank')
        # the reduce phase by analysis (max over ranks); the model's fit is
        # its reduce, "model" and "paths" are shown as phases of their own
        rpm = run.get('reduce_per_module') or {}
        if rec['phases'] is not None:
            for k in ('paths', 'model'):
                if k in rpm:
                    rec['phases']['reduce:' + k] = rpm[k]
        rec['run_events_per_s'] = run.get('events_per_s')
        rec['runjson_peak_rss_mib'] = [b / 2**20 for b in run.get('peak_rss_bytes', [])]
        if run.get('events_per_rank'):
            ev_rank = run['events_per_rank']
        if run.get('model'):
            m = run['model']
            rec['model'] = {k: m.get(k) for k in ('iterations', 'grad_norm', 'n_train', 'features')
                            if k in m}
    if per:
        rec['rss_mib'] = [p['rss_kib'] / 1024 for p in per]
        cpu = sum(p['user'] + p['sys'] for p in per)
        rec['cpu_s'] = cpu
        rec['ev_cpu_s'] = events / cpu if cpu > 0 else None
        rec['b_per_ev'] = max(p['rss_kib'] * 1024 / max(1, e) for p, e in zip(per, ev_rank))
    if args.get('peer'):
        with open(args['peer']) as f:
            rec['peer'] = json.load(f)
        if args.get('peer_rss'):
            rec['rss_mib'] = [int(args['peer_rss']) / 1024]
            rec['b_per_ev'] = int(args['peer_rss']) * 1024 / max(1, events)
    with open(out, 'a') as f:
        f.write(json.dumps(rec) + '\n')
    print(line(rec), flush=True)


def _f(x, nd=2):
    return '-' if x is None else f'{x:.{nd}f}'


def _evs(x):
    return '-' if x is None else (f'{x / 1e6:.2f}M' if x >= 1e6 else f'{x / 1e3:.0f}k')


def line(r):
    s = (f"[{r['size']}] {r['step']:<16} {r['ranks']}x{r['threads']}  wall {r['wall_s']:.2f} s  "
         f"{_evs(r['ev_s_core'])} ev/s/core")
    if r.get('ev_cpu_s'):
        s += f"  {_evs(r['ev_cpu_s'])} ev/cpu-s"
    if r.get('rss_mib'):
        s += '  rss ' + '/'.join(f'{m:.0f}' for m in r['rss_mib']) + ' MiB'
    if r.get('b_per_ev'):
        s += f"  {r['b_per_ev']:.0f} B/ev"
    if r.get('phases'):
        p = r['phases']
        s += '  [' + ' '.join(f"{k} {p[k]:.2f}" for k in
                              ('read', 'build', 'reduce', 'reduce:paths', 'reduce:model', 'write', 'total')
                              if k in p) + ']'
    if r.get('model'):
        s += f"  model iters {r['model'].get('iterations')}"
    if r.get('load'):
        s += f"  (load {r['load']})"
    if r.get('runs', 1) > 1:
        s += f"  best of {r['runs']}: " + '/'.join(f'{w:.2f}' for w in r['walls'])
    return s


# reduce: every analysis's merge across threads and ranks; reduce:paths and
# reduce:model (the fit) are parts of it (run.json reduce_per_module)
PHASES = ('plan', 'read', 'build', 'reduce', 'reduce:paths', 'reduce:model', 'write', 'total')


def table(files):
    recs = []
    for fn in files:
        with open(fn) as f:
            recs += [json.loads(l) for l in f if l.strip()]
    print('| size | step | ranks x threads | wall s | ev/s/core | ev/CPU-s | peak RSS/rank MiB | B/event/rank | loadavg before,after |')
    print('|---|---|---|---|---|---|---|---|---|')
    for r in recs:
        print(f"| {r['size']} | {r['step']} | {r['ranks']}x{r['threads']} | {_f(r['wall_s'])} | "
              f"{_evs(r['ev_s_core'])} | {_evs(r.get('ev_cpu_s'))} | "
              f"{'/'.join(f'{m:.0f}' for m in r.get('rss_mib', [])) or '-'} | "
              f"{_f(r.get('b_per_ev'), 0)} | {r.get('load', '')} |")
    runs = [r for r in recs if r.get('phases')]
    if runs:
        print()
        print('| size | job | ranks x threads | ' + ' | '.join(PHASES) + ' | model iters | s/iter |')
        print('|---|---|---|' + '---|' * (len(PHASES) + 2))
        for r in runs:
            p = r['phases']
            it = (r.get('model') or {}).get('iterations')
            per = (p.get('reduce:model', p.get('model', 0)) / it) if it else None
            print(f"| {r['size']} | {r['step']} | {r['ranks']}x{r['threads']} | " +
                  ' | '.join(_f(p.get(k)) for k in PHASES) +
                  f" | {it if it is not None else '-'} | {_f(per, 3)} |")
    peers = [r for r in recs if r.get('peer')]
    if peers:
        print()
        print('| size | peer | version | load s | analyses s | peak RSS MiB | equal to parcours |')
        print('|---|---|---|---|---|---|---|')
        for r in peers:
            p = r['peer']
            an = p.get('analyses_s', p.get('funnel_s'))
            eq = p.get('all_equal', p.get('equal'))
            print(f"| {r['size']} | {r['step']} | {p.get('version')} | {_f(p.get('load_s'))} | "
                  f"{_f(an)} | {'/'.join(f'{m:.0f}' for m in r.get('rss_mib', []))} | "
                  f"{'yes' if eq else 'NO'} |")


def best(src, out):
    """Append the record of SRC with the smallest wall_s to OUT, noting how
    many runs it was the best of."""
    with open(src) as f:
        recs = [json.loads(l) for l in f if l.strip()]
    r = min(recs, key=lambda r: r['wall_s'])
    r['runs'] = len(recs)
    r['walls'] = [x['wall_s'] for x in recs]
    with open(out, 'a') as f:
        f.write(json.dumps(r) + '\n')
    print(line(r), flush=True)


def project(fn, step, events):
    """Bytes all ranks of STEP would need for EVENTS events, from the last
    record of STEP in FN (B/event/rank x events); 0 when there is none."""
    best = None
    if os.path.exists(fn):
        with open(fn) as f:
            for l in f:
                r = json.loads(l)
                if r['step'] == step and r.get('b_per_ev'):
                    best = r
    print(int(best['b_per_ev'] * int(events)) if best else 0)


if __name__ == '__main__':
    if len(sys.argv) < 3 or sys.argv[1] not in ('record', 'table', 'project', 'best'):
        sys.exit(__doc__)
    if sys.argv[1] == 'record':
        record(sys.argv[2:])
    elif sys.argv[1] == 'best':
        best(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == 'project':
        project(*sys.argv[2:5])
    else:
        table(sys.argv[2:])
