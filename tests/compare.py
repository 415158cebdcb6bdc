#!/usr/bin/env python3
"""compare.py EXPECTED_DIR ACTUAL_DIR [FILE...] - parcours' own table comparison.

Compares EXPECTED_DIR/csv/*.csv (or the dir itself) with ACTUAL_DIR/csv/*.csv: same header,
same rows in the same order; integer-looking and non-numeric fields exactly; other numbers
within 1e-9 relative (1e-6 relative or 1e-9 absolute for the model tables, whose optimum is
only defined to the stopping rule); grad_norm must be < 1e-9 and iterations an integer.
Prints one line per table and 'N passed, M failed'; exit 1 on any failure. Standard library.
"""
import math
import os
import re
import sys

MODEL = {'model.csv', 'model_summary.csv', 'roc.csv', 'scores.csv', 'at_risk.csv'}
INT = re.compile(r'-?\d+\Z')
NUM = re.compile(r'-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z')


def csvdir(d):
    return os.path.join(d, 'csv') if os.path.isdir(os.path.join(d, 'csv')) else d


def close(e, a, model):
    if e == a:
        return True
    if INT.match(e) or not NUM.match(e) or not NUM.match(a):
        return False
    x, y = float(e), float(a)
    if model:
        return abs(x - y) <= max(1e-6 * abs(x), 1e-9)
    return abs(x - y) <= max(1e-9 * abs(x), 1e-12)


def compare(name, exp, act):
    with open(exp, 'rb') as f:
        el = f.read().decode('utf-8', 'surrogateescape').split('\n')
    with open(act, 'rb') as f:
        raw = f.read()
    if b'\r' in raw:
        return 'CR in line ends'
    al = raw.decode('utf-8', 'surrogateescape').split('\n')
    if el[0] != al[0]:
        return 'header %r != %r' % (al[0], el[0])
    if len(el) != len(al):
        return '%d rows, expected %d' % (len(al) - 2, len(el) - 2)
    for i, (e, a) in enumerate(zip(el[1:], al[1:]), 2):
        ef, af = e.split(','), a.split(',')
        if len(ef) != len(af):
            return 'line %d: %d fields, expected %d' % (i, len(af), len(ef))
        for j, (x, y) in enumerate(zip(ef, af)):
            if name == 'model_summary.csv' and ef[0] == 'grad_norm' and j == 1:
                if not float(y) < 1e-9:
                    return 'grad_norm %s not < 1e-9' % y
                continue
            if name == 'model_summary.csv' and ef[0] == 'iterations' and j == 1:
                if not INT.match(y):
                    return 'iterations %s not an integer' % y
                continue
            if y == '-0' or not close(x, y, name in MODEL):
                return 'line %d field %d: %r, expected %r' % (i, j + 1, y, x)
    return None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ed, ad = csvdir(sys.argv[1]), csvdir(sys.argv[2])
    names = sys.argv[3:] or sorted(n for n in os.listdir(ed) if n.endswith('.csv'))
    ok = bad = 0
    for n in names:
        if not os.path.exists(os.path.join(ad, n)):
            err = 'missing'
        else:
            err = compare(n, os.path.join(ed, n), os.path.join(ad, n))
        print('%s %s%s' % ('ok  ' if not err else 'FAIL', n, ': ' + err if err else ''))
        ok, bad = (ok + 1, bad) if not err else (ok, bad + 1)
    if len(sys.argv) == 3:
        for n in sorted(os.listdir(ad)):
            if n.endswith('.csv') and n not in names:
                print('FAIL %s: not expected (an unconfigured table was written)' % n)
                bad += 1
    print('%d passed, %d failed' % (ok, bad))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
