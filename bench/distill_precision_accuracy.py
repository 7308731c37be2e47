#!/usr/bin/python3
"""Does bf16 cost accuracy? The same TinyBERT distillation in fp32 and bf16.

`distilc distill` trains one student from one SST-2 teacher twice, with the
same data, order, seed and schedule: once in fp32 and once with
--teacher-precision bf16 --gemm-precision bf16 (the teacher's matmuls on the
oneDNN runtime in bf16; the student's GEMMs with bf16 inputs and f32
accumulation). It reports both students' dev metric, the teacher's, each
stage's final loss (the comparable figure) and the mean of its last 20
reported step losses (total and the TinyBERT terms; progress lines come at
most twice a second, so these are not the same steps in both runs), tokens/s, wall time and the machine load around each run,
as JSON on stdout and a Markdown table on stderr. The question is whether
bf16's student is within noise of fp32's; --seeds runs several seeds per
precision to show what the noise is.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/distill_precision_accuracy.py \\
        --distilc build-rel/distilc --teacher /tmp/ft/sst_distilc2.onnx \\
        --vocab /tmp/minilm/vocab.txt --data /work/shared/glue [--steps 200] \\
        [--seeds 42] [--threads 2]

Defaults: student layers=4,hidden=312,heads=12,ffn=1200, --limit 8000,
--max-seq 64, --steps 200 per stage (intermediate, then prediction),
--lr 2e-4. Use --steps 2 --dev-limit 32 for a smoke test.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

PRECISIONS = {"fp32": [], "bf16": ["--teacher-precision", "bf16", "--gemm-precision", "bf16"]}
TERMS = ("loss", "emb", "hidden", "attn", "pred")


def child_env():
    """Passive OpenMP waits unless told otherwise: the machine is shared and
    spinning barriers crawl when it is oversubscribed."""
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "passive")
    return env


def run_one(a, prec, seed, tmp):
    """One `distilc distill`; returns its report, step losses summarised."""
    out = os.path.join(tmp, "student-%s-%d.onnx" % (prec, seed))
    cmd = [a.distilc, "distill", a.teacher, "--task", a.task, "--data", a.data,
           "--vocab", a.vocab, "--student", a.student, "--steps", str(a.steps),
           "--lr", str(a.lr), "--limit", str(a.limit), "--max-seq", str(a.max_seq),
           "--threads", str(a.threads), "--seed", str(seed), "--json",
           "--progress", "json", "-o", out] + PRECISIONS[prec]
    if a.dev_limit:
        cmd += ["--dev-limit", str(a.dev_limit)]
    load0, t0 = os.getloadavg(), time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "PEAK_RSS_KB=%M"] + cmd,
                       capture_output=True, text=True, env=child_env())
    wall, load1 = time.time() - t0, os.getloadavg()
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
        raise SystemExit("distill_precision_accuracy: %s failed (exit %d): %s"
                         % (prec, p.returncode, " ".join(cmd)))
    steps = {}
    rss = float("nan")
    for line in p.stderr.splitlines():
        if line.startswith("PEAK_RSS_KB="):
            rss = int(line.split("=")[1]) / 1024.0
        elif line.startswith("{"):
            ev = json.loads(line)
            if ev.get("event") == "step":
                steps.setdefault(ev["stage"], []).append(ev)
    j = json.loads(p.stdout)
    metric = j["metric"]
    stages = {}
    for s in j["stages"]:
        tail = steps.get(s["stage"], [])[-20:]
        stages[s["stage"]] = {
            "steps": s["steps"], "final_loss": s["final_loss"],
            "tokens_per_s": s["tokens_per_s"], "seconds": s["seconds"],
            "last20_mean": {t: sum(e[t] for e in tail) / len(tail) for t in TERMS}
            if tail else None}
    return {"precision": prec, "seed": seed, "command": cmd,
            "metric": metric, "teacher_dev": j["teacher_dev"][metric],
            "student_dev": j["student_dev"][metric], "dev_examples": j["dev_examples"],
            "teacher_precision": j["teacher_precision"],
            "gemm_precision": j["gemm_precision"], "stages": stages,
            "wall_s": wall, "peak_rss_mb": rss, "load_before": load0, "load_after": load1}


def table(runs):
    rows = ["| precision | seed | teacher dev | student dev | intermediate loss "
            "(last 20) | prediction loss (last 20) | tokens/s int. / pred. | "
            "wall s | load before / after |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        st = r["stages"]

        def lossf(name):
            s = st.get(name)
            if not s:
                return "-"
            m = s["last20_mean"]
            return "%.4f (%.4f)" % (s["final_loss"], m["loss"] if m else float("nan"))

        def tps(name):
            return "%.0f" % st[name]["tokens_per_s"] if name in st else "-"
        rows.append("| %s | %d | %.4f | %.4f | %s | %s | %s / %s | %.0f | %.2f / %.2f |" % (
            r["precision"], r["seed"], r["teacher_dev"], r["student_dev"],
            lossf("intermediate"), lossf("prediction"), tps("intermediate"),
            tps("prediction"), r["wall_s"], r["load_before"][0], r["load_after"][0]))
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--distilc", required=True, help="a Release build's distilc")
    ap.add_argument("--teacher", required=True, help="a fine-tuned SST-2 teacher (.onnx)")
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--data", required=True, help="GLUE root")
    ap.add_argument("--task", default="sst2")
    ap.add_argument("--student", default="layers=4,hidden=312,heads=12,ffn=1200")
    ap.add_argument("--steps", type=int, default=200, help="per stage")
    ap.add_argument("--lr", default="2e-4")
    ap.add_argument("--limit", type=int, default=8000)
    ap.add_argument("--dev-limit", type=int, default=0, help="0: the whole dev split")
    ap.add_argument("--max-seq", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", default="42", help="comma-separated (distilc's default 42)")
    a = ap.parse_args()
    for path, what in ((a.distilc, "--distilc"), (a.teacher, "--teacher"),
                       (a.vocab, "--vocab"), (a.data, "--data")):
        if not os.path.exists(path):
            ap.error("%s %s: no such file or directory" % (what, path))
    try:
        seeds = [int(s) for s in a.seeds.split(",")]
    except ValueError:
        ap.error("--seeds %s: expected comma-separated integers" % a.seeds)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for prec in PRECISIONS:  # interleaved, so load drifts hit both
                runs.append(run_one(a, prec, seed, tmp))
                sys.stderr.write("%s seed %d: student dev %.4f (%.0f s)\n" % (
                    prec, seed, runs[-1]["student_dev"], runs[-1]["wall_s"]))
    mean = {p: sum(r["student_dev"] for r in runs if r["precision"] == p) / len(seeds)
            for p in PRECISIONS}
    out = {"teacher": a.teacher, "student": a.student, "steps_per_stage": a.steps,
           "lr": a.lr, "limit": a.limit, "max_seq": a.max_seq, "threads": a.threads,
           "seeds": seeds, "omp_wait_policy": child_env()["OMP_WAIT_POLICY"],
           "runs": runs, "student_dev_mean": mean,
           "bf16_minus_fp32_points": 100.0 * (mean["bf16"] - mean["fp32"])}
    sys.stderr.write(table(runs) + "\n")
    sys.stderr.write("bf16 - fp32 student dev: %+.2f points (mean over %d seed%s)\n" % (
        out["bf16_minus_fp32_points"], len(seeds), "" if len(seeds) == 1 else "s"))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
