#!/usr/bin/python3
"""test_metrics_sklearn.py — checks distilc's GLUE metrics against
scikit-learn (accuracy, f1, matthews_corrcoef) and scipy (pearsonr,
spearmanr), the implementations Hugging Face's `glue` metric calls.

How: writes random cases (fixed seed) to a file, runs the C test
`test_metrics` with DISTILC_METRICS_CASES pointing at it (that mode prints
the values the library computes; see tests/frontend/test_metrics.c), and compares.
Nothing is compiled here and Python is never part of the product.

Usage: test_metrics_sklearn.py [PATH/TO/test_metrics]
  (default: $DISTILC_BUILD_DIR/tests/test_metrics)
Skips (exit 77, "skipped: ...") when numpy, scipy or scikit-learn is missing.
"""
import math
import os
import subprocess
import sys
import tempfile
import warnings

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

try:
    import numpy as np
    from scipy import stats
    from sklearn import metrics as skm
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"skipped: {e.name} missing (Debian: apt-get install "
          "python3-sklearn python3-scipy)")
    sys.exit(77)

TOL = 1e-9


def make_cases(rng):
    """(kind, n_classes, pred, gold) tuples, degenerate ones included."""
    cases = []
    for n in (1, 2, 5, 17, 100, 1043, 5000):
        p = rng.integers(0, 2, n)
        g = rng.integers(0, 2, n)
        cases.append(("cls", 2, p, g))
        # a mostly-right model, as real ones are
        agree = rng.random(n) < 0.85
        cases.append(("cls", 2, np.where(agree, g, 1 - g), g))
    cases.append(("cls", 2, np.ones(50, int), rng.integers(0, 2, 50)))
    cases.append(("cls", 2, rng.integers(0, 2, 50), np.zeros(50, int)))
    cases.append(("cls", 2, np.zeros(20, int), np.zeros(20, int)))
    for n in (3, 30, 9815):
        cases.append(("cls", 3, rng.integers(0, 3, n), rng.integers(0, 3, n)))
    for n in (2, 3, 10, 200, 1500):
        g = rng.uniform(0, 5, n)
        cases.append(("reg", 0, g + rng.normal(0, 1, n), g))
        # heavy ties, as STS-B's gold scores (multiples of 0.2) have
        gt = np.round(rng.uniform(0, 5, n) * 5) / 5
        pt = np.round((gt + rng.normal(0, 1, n)) * 2) / 2
        cases.append(("reg", 0, pt, gt))
    cases.append(("reg", 0, np.full(40, 2.5), rng.uniform(0, 5, 40)))
    cases.append(("reg", 0, rng.uniform(0, 5, 40), np.full(40, 0.1)))
    return cases


def expected(kind, n_classes, p, g):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "cls":
            out = {"accuracy": skm.accuracy_score(g, p),
                   "matthews_correlation": skm.matthews_corrcoef(g, p)}
            if n_classes == 2:
                out["f1"] = skm.f1_score(g, p, pos_label=1, average="binary",
                                         labels=[0, 1])
            return out
        if len(p) < 2:
            return {"pearson": math.nan, "spearmanr": math.nan}
        return {"pearson": float(stats.pearsonr(p, g)[0]),
                "spearmanr": float(stats.spearmanr(p, g)[0])}


def main():
    program = mu.command_arg(__doc__, "test_metrics")
    rng = np.random.default_rng(20240605)
    cases = make_cases(rng)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for kind, k, p, g in cases:
            if kind == "cls":
                f.write(f"cls {k} {len(p)}\n")
                f.write(" ".join(str(int(v)) for v in p) + "\n")
                f.write(" ".join(str(int(v)) for v in g) + "\n")
            else:
                f.write(f"reg {len(p)}\n")
                f.write(" ".join(repr(float(v)) for v in p) + "\n")
                f.write(" ".join(repr(float(v)) for v in g) + "\n")
        path = f.name
    try:
        env = dict(os.environ, DISTILC_METRICS_CASES=path)
        run = subprocess.run([program], env=env, capture_output=True,
                             text=True, check=False)
    finally:
        os.unlink(path)
    if run.returncode != 0:
        print(run.stdout, run.stderr)
        print("FAILED: test_metrics exited with", run.returncode)
        return 1
    got = {}
    for line in run.stdout.splitlines():
        tok = line.split()
        got[int(tok[1])] = {tok[i]: float(tok[i + 1])
                            for i in range(2, len(tok), 2)}
    failed = 0
    worst = 0.0
    checked = 0
    for i, (kind, k, p, g) in enumerate(cases):
        want = expected(kind, k, p, g)
        have = got.get(i, {})
        for name, w in want.items():
            h = have.get(name)
            checked += 1
            if h is None:
                ok = False
            elif math.isnan(w) or math.isnan(h):
                ok = math.isnan(w) and math.isnan(h)
            else:
                worst = max(worst, abs(w - h))
                ok = abs(w - h) <= TOL
            if not ok:
                failed += 1
                print(f"case {i} ({kind}, n={len(p)}): {name} "
                      f"distilc {h} reference {w}")
    print(f"test_metrics_sklearn: {checked - failed} passed, {failed} failed "
          f"(worst difference {worst:.3g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
