#!/usr/bin/env python3
"""study-tool.py - the partition study's grid and its gathering (stdlib only).

  study-tool.py count STUDY.ini        number of grid points (array tasks)
  study-tool.py max STUDY.ini          "MAXRANKS MAXTHREADS"
  study-tool.py get STUDY.ini KEY      a [study] value ('' when absent)
  study-tool.py buckets STUDY.ini      bucket counts, one a line
  study-tool.py point STUDY.ini N      grid point N as shell assignments
                                       (STRATEGY BUCKETS RANKS THREADS REPEAT)
  study-tool.py gather STUDYDIR        STUDYDIR/study.csv and study.svg

Grid order: task N walks strategies (slowest), buckets, ranks, threads,
repeat (fastest); N = 0 .. count-1 is SLURM_ARRAY_TASK_ID.
"""
import configparser, csv, json, os, shlex, sys
from xml.sax.saxutils import escape

GRID = ("strategies", "buckets", "ranks", "threads")


def die(msg):
    print(f"study: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path):
    cp = configparser.ConfigParser(interpolation=None)
    if not cp.read(path):
        die(f"cannot read {path}")
    if not cp.has_section("study"):
        die(f"{path}: no [study] group")
    return cp["study"]


def listof(sec, key, num=False):
    items = [x.strip() for x in sec.get(key, "").split(";") if x.strip()]
    if not items:
        die(f"[study] {key} is empty")
    if num:
        try:
            items = [int(x) for x in items]
        except ValueError:
            die(f"[study] {key}: integers expected")
        if min(items) < 1:
            die(f"[study] {key}: values must be >= 1")
    return items


def grid(sec):
    g = [listof(sec, "strategies")] + [listof(sec, k, True) for k in GRID[1:]]
    rep = int(sec.get("repeat", "1") or 1)
    return g, rep


def count(sec):
    g, rep = grid(sec)
    n = rep
    for axis in g:
        n *= len(axis)
    return n


def point(sec, n):
    g, rep = grid(sec)
    if not 0 <= n < count(sec):
        die(f"task {n} outside the grid (0..{count(sec) - 1})")
    n, r = divmod(n, rep)
    vals = []
    for axis in reversed(g):
        n, i = divmod(n, len(axis))
        vals.append(axis[i])
    s, b, rk, t = reversed(vals)
    return {"strategy": s, "buckets": b, "ranks": rk, "threads": t, "repeat": r}


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def read_task(studydir, n, expect):
    """One CSV row for task n: the grid point, then what run.json says."""
    d = os.path.join(studydir, f"task-{n}")
    row = dict(task=n, **expect, status="missing", predicted_imbalance="",
               measured_imbalance="", time_imbalance="", wall_s="",
               peak_rss_max_bytes="",
               slurm_job="")
    try:
        with open(os.path.join(d, "params.json")) as f:
            row["slurm_job"] = json.load(f).get("slurm_job", "")
    except (OSError, ValueError):
        pass
    phases = {}
    try:
        with open(os.path.join(d, "run.json")) as f:
            rj = json.load(f)
    except OSError:
        if os.path.exists(os.path.join(d, "FAILED")):
            row["status"] = "failed"
        return row, phases
    except ValueError:
        row["status"] = "bad run.json"
        return row, phases
    plan = rj.get("plan", {})
    got = {"strategy": plan.get("strategy"), "buckets": plan.get("buckets"),
           "ranks": rj.get("ranks"), "threads": rj.get("threads")}
    bad = [k for k, v in got.items() if str(v) != str(expect[k])]
    row["status"] = "ok" if not bad else "mismatch:" + "/".join(bad)
    row["predicted_imbalance"] = plan.get("imbalance_cost", "")
    row["measured_imbalance"] = plan.get("imbalance_events", "")
    row["wall_s"] = rj.get("wall_s", "")
    rss = [x for x in rj.get("peak_rss_bytes", []) if isinstance(x, (int, float))]
    row["peak_rss_max_bytes"] = max(rss) if rss else ""
    phases = {k: v for k, v in rj.get("phases", {}).items() if num(v) is not None}
    # Measured time imbalance, max/mean over ranks of the total time, when
    # run.json has per-rank phase times.
    per = rj.get("phases_per_rank", {}).get("total")
    if isinstance(per, list) and per and all(num(x) is not None for x in per):
        mean = sum(per) / len(per)
        row["time_imbalance"] = round(max(per) / mean, 6) if mean > 0 else ""
    return row, phases


def gather(studydir):
    sec = load(os.path.join(studydir, "study.ini"))
    rows, allph = [], []
    for n in range(count(sec)):
        row, ph = read_task(studydir, n, {k: v for k, v in point(sec, n).items()})
        for k in ph:
            if k not in allph:
                allph.append(k)
        row["_phases"] = ph
        rows.append(row)
    cols = ["task", "strategy", "buckets", "ranks", "threads", "repeat", "status",
            "predicted_imbalance", "measured_imbalance", "time_imbalance"]
    cols += [f"phase_{p}_s" for p in allph] + ["wall_s", "peak_rss_max_bytes", "slurm_job"]
    out = os.path.join(studydir, "study.csv")
    with open(out + ".tmp", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            for p in allph:
                r[f"phase_{p}_s"] = r["_phases"].get(p, "")
            w.writerow([r[c] for c in cols])
    os.replace(out + ".tmp", out)
    svg = os.path.join(studydir, "study.svg")
    with open(svg + ".tmp", "w") as f:
        f.write(chart(rows, allph))
    os.replace(svg + ".tmp", svg)
    ok = sum(r["status"] == "ok" for r in rows)
    print(f"study: {len(rows)} tasks, {ok} ok -> {out}, {svg}", file=sys.stderr)
    return 0 if ok == len(rows) else 1


COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
          "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]


def chart(rows, phases):
    """Hand-written SVG: imbalance (predicted, measured) and stacked phase
    times per grid point; x = task, labelled strategy/buckets/ranks x threads."""
    n = max(1, len(rows))
    bw = 34
    left, top, ph, gap = 70, 40, 220, 150
    width = max(left + n * bw + 200, 660)
    height = top + 20 + 2 * ph + 2 * gap
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{left}" y="20" font-size="14">parcours partition study: '
         f'{len(rows)} tasks</text>']

    def panel(y0, title, series, stacked):
        vals = []
        for r in rows:
            v = [num(r.get(k)) or 0.0 for k, _, _ in series]
            vals.append(sum(v) if stacked else max(v + [0.0]))
        vmax = max(vals + [1e-12]) * 1.1
        s.append(f'<text x="{left}" y="{y0 - 8}" font-size="12">{escape(title)}</text>')
        s.append(f'<line x1="{left}" y1="{y0 + ph}" x2="{left + n * bw}" y2="{y0 + ph}" stroke="black"/>')
        s.append(f'<line x1="{left}" y1="{y0}" x2="{left}" y2="{y0 + ph}" stroke="black"/>')
        for i in range(5):
            v = vmax * i / 4
            y = y0 + ph - ph * i / 4
            s.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left + n * bw}" y2="{y:.1f}" stroke="#ddd"/>')
            s.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.3g}</text>')
        for j, r in enumerate(rows):
            x = left + j * bw + 3
            base = 0.0
            for k, (key, label, color) in enumerate(series):
                v = num(r.get(key)) or 0.0
                h = ph * v / vmax
                if stacked:
                    y = y0 + ph - ph * (base + v) / vmax
                    s.append(f'<rect x="{x}" y="{y:.1f}" width="{bw - 6}" height="{h:.1f}" fill="{color}">'
                             f'<title>task {r["task"]} {escape(label)}: {v:.6g}</title></rect>')
                    base += v
                else:
                    w = (bw - 6) / len(series)
                    s.append(f'<rect x="{x + k * w:.1f}" y="{y0 + ph - h:.1f}" width="{w:.1f}" '
                             f'height="{h:.1f}" fill="{color}"><title>task {r["task"]} '
                             f'{escape(label)}: {v:.6g}</title></rect>')
            if r["status"] != "ok":
                s.append(f'<text x="{x + 2}" y="{y0 + ph - 4}" fill="red">{escape(r["status"][:1])}</text>')
            lbl = f'{r["strategy"]}/b{r["buckets"]}/{r["ranks"]}x{r["threads"]}'
            lx, ly = left + j * bw + bw / 2, y0 + ph + 8
            s.append(f'<text x="{lx:.1f}" y="{ly}" transform="rotate(60 {lx:.1f} {ly})">{escape(lbl)}</text>')
        for k, (_, label, color) in enumerate(series):
            ly = y0 + 10 + 16 * k
            s.append(f'<rect x="{left + n * bw + 20}" y="{ly - 9}" width="10" height="10" fill="{color}"/>')
            s.append(f'<text x="{left + n * bw + 35}" y="{ly}">{escape(label)}</text>')

    panel(top + 20, "imbalance: plan.imbalance_cost, plan.imbalance_events, total time max/mean over ranks",
          [("predicted_imbalance", "predicted (cost)", COLORS[0]),
           ("measured_imbalance", "measured (events)", COLORS[1]),
           ("time_imbalance", "measured (time, max/mean)", COLORS[2])], False)
    panel(top + 20 + ph + gap, "time per phase, seconds (max over ranks), stacked (total left out)",
          [(f"phase_{p}_s", p, COLORS[i % len(COLORS)])
           for i, p in enumerate(x for x in phases if x != "total")]
          or [("wall_s", "wall", COLORS[0])], True)
    s.append("</svg>\n")
    return "\n".join(s)


def main(argv):
    if len(argv) < 3:
        die(__doc__.strip())
    cmd, arg = argv[1], argv[2]
    if cmd == "gather":
        return gather(arg)
    sec = load(arg)
    if cmd == "count":
        print(count(sec))
    elif cmd == "max":
        g, _ = grid(sec)
        print(max(g[2]), max(g[3]))
    elif cmd == "get":
        print(sec.get(argv[3], "") if len(argv) > 3 else die("get KEY"))
    elif cmd == "buckets":
        print("\n".join(str(b) for b in grid(sec)[0][1]))
    elif cmd == "point":
        p = point(sec, int(argv[3]))
        for k in ("strategy", "buckets", "ranks", "threads", "repeat"):
            print(f"{k.upper()}={shlex.quote(str(p[k]))}")
    else:
        die(f"unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
