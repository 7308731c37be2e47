#!/usr/bin/python3
"""Training throughput: distilc vs PyTorch (CPU) on a TinyBERT-style step.

The step: a teacher forward (6 x 384, all-MiniLM-L6-v2 shape) and a student
forward + backward (4 x 312, 12 heads, FFN 1200, TinyBERT-4 shape) with the
intermediate losses (hidden-state MSE through a learned [312, 384]
projection, attention-score MSE, embedding MSE), then AdamW — at batch 32 x
seq 64 (every example is long enough to fill the 64 tokens, so no batch is
shorter). distilc runs it as `distilc distill ... --steps N` (its
"intermediate" stage; the "prediction" stage is reported too); PyTorch runs
the same computation written with torch.nn (the module of
tests/util/bert_export.py). Also a plain fine-tuning step of the student
(`distilc finetune` vs torch). Reports tokens/s (non-padding tokens) and
peak RSS of each process (from /usr/bin/time) as JSON.

    /usr/bin/python3 bench/make_teacher_minilm.py --out /tmp/minilm
    /usr/bin/python3 bench/bench_train.py --teacher /tmp/minilm \
        --distilc build-rel/distilc [--steps 10] [--threads 2]

Note the machine load (uptime) beside the numbers: the development machine
is shared.

distilc's opt-in speed options can be passed through: --teacher-precision
bf16 (distill only) and --gemm-precision bf16 (distill and finetune); the
PyTorch side then still runs fp32, so report such runs as a separate line.

Mixed precision, like for like: --torch-autocast bf16 runs four
configurations in one go, interleaved —
    distilc fp32                                    vs PyTorch fp32
    distilc --teacher-precision bf16 --gemm-precision bf16
                                                    vs PyTorch autocast bf16
(torch.autocast("cpu", dtype=torch.bfloat16) around the teacher forward and
the student forward + loss; backward outside it, fp32 master weights and
fp32 AdamW, as PyTorch's CPU AMP recipe has it). In this mode PyTorch also
runs the prediction stage (teacher logits under no_grad, soft cross-entropy
at temperature 1, as distilc's prediction stage) after the intermediate
one, in the same process, so every stage has its own peer and the peak RSS
of one process covers both stages on both sides. The JSON gains a
"configs" object; a Markdown table goes to stderr.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/bench_train.py \
        --teacher /tmp/minilm --distilc build-rel/distilc --torch-autocast bf16
"""
import argparse
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STUDENT = dict(layers=4, hidden=312, heads=12, ffn=1200)


def make_data(root, vocab_path, n, words_per_example=80, seed=0):
    """A GLUE-shaped SST-2 folder whose examples all exceed 64 tokens."""
    words = [w for w in open(vocab_path, encoding="utf-8").read().split("\n")[2000:12000]
             if w.isalpha()]
    r = random.Random(seed)
    os.makedirs(os.path.join(root, "SST-2"), exist_ok=True)
    for split, m in (("train", n), ("dev", 32)):
        with open(os.path.join(root, "SST-2", split + ".tsv"), "w") as f:
            f.write("sentence\tlabel\n")
            for i in range(m):
                f.write(" ".join(r.choice(words) for _ in range(words_per_example)))
                f.write("\t%d\n" % (i % 2))


def child_env():
    """Both sides use libgomp; spinning OpenMP barriers crawl on a shared,
    oversubscribed machine, so children wait passively unless told
    otherwise (the same setting for distilc and PyTorch). An empty
    OMP_WAIT_POLICY= runs both with libgomp's own default (spin a little,
    then sleep), what a user gets who sets nothing."""
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "passive")
    if not env["OMP_WAIT_POLICY"]:
        del env["OMP_WAIT_POLICY"]
    return env


def prec_args(a, teacher):
    """distilc's precision options, only when not the default (so an older
    distilc without them can still be measured)."""
    r = []
    if teacher and a.teacher_precision != "fp32":
        r += ["--teacher-precision", a.teacher_precision]
    if a.gemm_precision != "fp32":
        r += ["--gemm-precision", a.gemm_precision]
    return r


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, peak RSS MB)."""
    p = subprocess.run(["/usr/bin/time", "-f", "PEAK_RSS_KB=%M"] + cmd,
                       capture_output=True, text=True, env=child_env())
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
        raise SystemExit("bench_train: %s failed (exit %d)" % (cmd[0], p.returncode))
    rss = [l for l in p.stderr.splitlines() if l.startswith("PEAK_RSS_KB=")]
    return p.stdout, int(rss[-1].split("=")[1]) / 1024.0 if rss else float("nan")


# ---- the PyTorch worker (run in its own process for its own peak RSS) ------

def torch_worker(a):
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "util"))
    from bert_export import BertClassifier
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B, T = a.batch, a.seq
    tcfg = dict(vocab=30522, hidden=384, heads=12, ffn=1536, layers=6, max_pos=512,
                type_vocab=2, labels=2)
    scfg = dict(vocab=30522, max_pos=512, type_vocab=2, labels=2, **STUDENT)
    student = BertClassifier(scfg)
    student.eval()  # dropout off, as in distilc
    teacher = None
    if a.worker == "distill":
        teacher = BertClassifier(tcfg)
        teacher.load_state_dict(torch.load(os.path.join(a.teacher, "model.pt")))
        teacher.eval()
    proj = torch.nn.Parameter(0.02 * torch.randn(scfg["hidden"], tcfg["hidden"]))
    params = list(student.parameters()) + ([proj] if teacher is not None else [])
    opt = torch.optim.AdamW(params, lr=1e-4)

    def taps(m, ids, mask, types):
        h = m.embeddings(ids, types)
        ext = (1.0 - mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
        hidden, scores = [h], []
        for layer in m.layers:
            at = layer.attention
            q, k, v = at.split(at.query(h)), at.split(at.key(h)), at.split(at.value(h))
            s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(at.head_size)
            scores.append(s)
            p = torch.softmax(s + ext, dim=-1)
            ctx = torch.matmul(p, v).permute(0, 2, 1, 3).reshape(h.shape)
            x = layer.attn_norm(layer.attn_out(ctx) + h)
            h = layer.out_norm(layer.output(torch.nn.functional.gelu(layer.intermediate(x))) + x)
            hidden.append(h)
        return m.classifier(torch.tanh(m.pooler(h[:, 0]))), hidden, scores

    autocast = a.worker_autocast == "bf16"

    def amp():
        """PyTorch's CPU mixed precision, or nothing."""
        if autocast:
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    ids = torch.randint(1000, 30000, (B, T))
    mask = torch.ones(B, T, dtype=torch.long)
    types = torch.zeros(B, T, dtype=torch.long)
    labels = torch.randint(0, 2, (B,))
    Ls, Lt = scfg["layers"], tcfg["layers"]

    def step_loss(stage):
        if stage == "finetune":
            with amp():
                logits = student(ids, mask, types)
                return torch.nn.functional.cross_entropy(logits, labels)
        t0 = time.time()
        if stage == "prediction":
            # distilc's prediction stage: soft cross-entropy against the
            # teacher's logits, temperature 1
            with torch.no_grad(), amp():
                tl = teacher(ids, mask, types)
            teacher_s[0] += time.time() - t0
            with amp():
                sl = student(ids, mask, types)
                return -(torch.softmax(tl.float(), -1)
                         * torch.log_softmax(sl.float(), -1)).sum(-1).mean()
        with torch.no_grad(), amp():
            _, th, ts = taps(teacher, ids, mask, types)
        teacher_s[0] += time.time() - t0
        with amp():
            _, sh, ss = taps(student, ids, mask, types)
            loss = torch.nn.functional.mse_loss(sh[0] @ proj, th[0])
            for m in range(1, Ls + 1):
                g = m * Lt // Ls
                loss = loss + torch.nn.functional.mse_loss(sh[m] @ proj, th[g])
                loss = loss + torch.nn.functional.mse_loss(ss[m - 1], ts[g - 1])
            return loss

    teacher_s = [0.0]  # the teacher forward's share, summed over a stage

    def run_stage(stage):
        teacher_s[0] = 0.0
        times, losses, fwd = [], [], 0.0
        for step in range(a.steps):
            t0 = time.time()
            opt.zero_grad()
            loss = step_loss(stage)
            t1 = time.time()
            loss.backward()  # outside autocast, as PyTorch's AMP recipe says
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            times.append(time.time() - t0)
            fwd += t1 - t0
            losses.append(float(loss))
        steady = times[1:] if len(times) > 1 else times
        return {"tokens_per_s": B * T * len(steady) / sum(steady),
                "tokens_per_s_incl_first": B * T * len(times) / sum(times),
                "step_s": sum(steady) / len(steady), "final_loss": losses[-1],
                "seconds": sum(times), "forward_and_loss_s": fwd,
                "teacher_s": teacher_s[0]}

    if teacher is None:
        print(json.dumps(run_stage("finetune")))
        return
    stages = a.worker_stages.split(",")
    res = {s: run_stage(s) for s in stages}
    out = dict(res[stages[0]])  # the first stage's figures at the top, as before
    if len(stages) > 1:
        out["stages"] = res
    print(json.dumps(out))


# ---- mixed precision: four configurations side by side --------------------

MIXED_STAGES = ("intermediate", "prediction", "finetune")


def best_of(old, new, key):
    """The faster of two runs of one configuration (None-safe)."""
    return new if old is None or key(new) > key(old) else old


def mixed_table(out):
    """Markdown: tokens/s per stage and configuration, ratios, peak RSS."""
    c = out["configs"]
    rows = ["| stage | distilc fp32 | PyTorch fp32 | ratio | distilc bf16 | "
            "PyTorch autocast bf16 | ratio | distilc bf16 / PyTorch fp32 |",
            "|---|---|---|---|---|---|---|---|"]
    for st in MIXED_STAGES:
        f, b = c["fp32"]["stages"][st], c["bf16"]["stages"][st]
        rows.append("| %s | %.0f | %.0f | %.2fx | %.0f | %.0f | %.2fx | %.2fx |" % (
            st, f["distilc"], f["torch"], f["ratio"], b["distilc"], b["torch"],
            b["ratio"], b["distilc"] / f["torch"]))
    rows.append("")
    rows.append("| peak RSS MB | distilc fp32 | PyTorch fp32 | distilc bf16 | "
                "PyTorch autocast bf16 |")
    rows.append("|---|---|---|---|---|")
    for job in ("distill", "finetune"):
        rows.append("| %s | %.0f | %.0f | %.0f | %.0f |" % (
            job, c["fp32"]["peak_rss_mb"]["distilc_" + job],
            c["fp32"]["peak_rss_mb"]["torch_" + job],
            c["bf16"]["peak_rss_mb"]["distilc_" + job],
            c["bf16"]["peak_rss_mb"]["torch_" + job]))
    return "\n".join(rows)


def mixed_main(a):
    out = {"batch": a.batch, "seq": a.seq, "steps": a.steps, "threads": a.threads,
           "repeat": a.repeat, "torch_autocast": a.torch_autocast,
           "student": STUDENT, "load_before": os.getloadavg(),
           "omp_wait_policy": child_env()["OMP_WAIT_POLICY"], "runs": []}
    vocab = os.path.join(a.teacher, "vocab.txt")
    me = [sys.executable, os.path.abspath(__file__), "--teacher", a.teacher,
          "--steps", str(a.steps), "--batch", str(a.batch), "--seq", str(a.seq),
          "--threads", str(a.threads)]
    # name -> (distilc distill options, distilc finetune options, torch autocast)
    configs = {"fp32": ([], [], "off"),
               "bf16": (["--teacher-precision", "bf16", "--gemm-precision", "bf16"],
                        ["--gemm-precision", "bf16"], a.torch_autocast)}
    best = {name: {} for name in configs}
    tps = lambda r: r["tokens_per_s_incl_first"]

    def note(name, job, r):
        out["runs"].append(dict(r, config=name, job=job, load=os.getloadavg()))

    with tempfile.TemporaryDirectory() as tmp:
        make_data(tmp, vocab, n=a.batch * a.steps)
        common = ["--task", "sst2", "--data", tmp, "--vocab", vocab, "--batch", str(a.batch),
                  "--max-seq", str(a.seq), "--steps", str(a.steps), "--threads",
                  str(a.threads), "--json", "--progress", "off"]
        sdir = os.path.join(tmp, "student_model")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "util",
                                                     "bert_export.py"), "--out", sdir,
                        "--layers", "4", "--hidden", "312", "--heads", "12",
                        "--ffn", "1200", "--vocab", "30522", "--max-pos", "512"],
                       check=True, capture_output=True)
        for rep_i in range(a.repeat):
            for name, (dopt, fopt, ac) in configs.items():
                b = best[name]
                so, rss = timed([a.distilc, "distill", os.path.join(a.teacher, "model.onnx"),
                                 "--student", "layers=4,hidden=312,heads=12,ffn=1200",
                                 "-o", os.path.join(tmp, "student.onnx"), "--dev-limit",
                                 "32"] + dopt + common)
                j = json.loads(so)
                r = {"stages": {s["stage"]: s["tokens_per_s"] for s in j["stages"]},
                     "peak_rss_mb": rss,
                     # where the time went: distilc's own split of each stage
                     "seconds": {s["stage"]: {k: s[k] for k in (
                         "seconds", "student_forward_s", "teacher_s", "loss_terms_s")}
                         for s in j["stages"]}}
                note(name, "distilc_distill", r)
                b["distilc_distill"] = best_of(b.get("distilc_distill"), r,
                                               lambda r: r["stages"]["intermediate"])
                so, rss = timed(me + ["--worker", "distill", "--worker-autocast", ac,
                                      "--worker-stages", "intermediate,prediction"])
                r = dict(json.loads(so), peak_rss_mb=rss)
                note(name, "torch_distill", r)
                b["torch_distill"] = best_of(b.get("torch_distill"), r, tps)
                so, rss = timed([a.distilc, "finetune", os.path.join(sdir, "model.onnx"),
                                 "-o", os.path.join(tmp, "ft.onnx"), "--no-eval"]
                                + fopt + common)
                r = {"tokens_per_s": json.loads(so)["tokens_per_s"], "peak_rss_mb": rss}
                note(name, "distilc_finetune", r)
                b["distilc_finetune"] = best_of(b.get("distilc_finetune"), r,
                                                lambda r: r["tokens_per_s"])
                so, rss = timed(me + ["--worker", "finetune", "--worker-autocast", ac])
                r = dict(json.loads(so), peak_rss_mb=rss)
                note(name, "torch_finetune", r)
                b["torch_finetune"] = best_of(b.get("torch_finetune"), r, tps)
    out["configs"] = {}
    for name, b in best.items():
        # distilc's tokens/s count from each stage's first step: compare with
        # PyTorch's figure that includes its first step too
        d = {"intermediate": b["distilc_distill"]["stages"]["intermediate"],
             "prediction": b["distilc_distill"]["stages"]["prediction"],
             "finetune": b["distilc_finetune"]["tokens_per_s"]}
        t = {"intermediate": tps(b["torch_distill"]["stages"]["intermediate"]),
             "prediction": tps(b["torch_distill"]["stages"]["prediction"]),
             "finetune": tps(b["torch_finetune"])}
        out["configs"][name] = {
            "distilc_options": configs[name][0], "torch_autocast": configs[name][2],
            "stages": {st: {"distilc": d[st], "torch": t[st], "ratio": d[st] / t[st]}
                       for st in MIXED_STAGES},
            "peak_rss_mb": {k: b[k]["peak_rss_mb"] for k in
                            ("distilc_distill", "torch_distill", "distilc_finetune",
                             "torch_finetune")},
            "best": b}
    out["bf16_over_fp32"] = {
        side: {st: out["configs"]["bf16"]["stages"][st][side]
               / out["configs"]["fp32"]["stages"][st][side] for st in MIXED_STAGES}
        for side in ("distilc", "torch")}
    out["load_after"] = os.getloadavg()
    sys.stderr.write(mixed_table(out) + "\n")
    print(json.dumps(out, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--teacher", help="folder from bench/make_teacher_minilm.py")
    ap.add_argument("--distilc", help="a Release build's distilc")
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=2,
                    help="runs per side, interleaved; the best is kept (the "
                         "machine is shared, so the slower runs are noise)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", choices=["distill", "finetune"], default=None)
    ap.add_argument("--teacher-precision", choices=["fp32", "bf16"], default="fp32",
                    help="distilc distill --teacher-precision (default fp32)")
    ap.add_argument("--gemm-precision", choices=["fp32", "bf16"], default="fp32",
                    help="distilc's student GEMMs (default fp32)")
    ap.add_argument("--torch-autocast", choices=["off", "bf16"], default="off",
                    help="bf16: measure distilc fp32 vs PyTorch fp32 and distilc "
                         "bf16 (teacher and GEMMs) vs PyTorch autocast bf16, "
                         "every stage, in one run (default off: the single "
                         "comparison above)")
    ap.add_argument("--worker", choices=["distill", "finetune"], help=argparse.SUPPRESS)
    ap.add_argument("--worker-autocast", choices=["off", "bf16"], default="off",
                    help=argparse.SUPPRESS)
    ap.add_argument("--worker-stages", default="intermediate", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return torch_worker(a)
    if not a.teacher or not a.distilc:
        ap.error("--teacher and --distilc are required")
    if a.torch_autocast != "off":
        if a.teacher_precision != "fp32" or a.gemm_precision != "fp32":
            ap.error("--torch-autocast runs both precisions itself; leave out "
                     "--teacher-precision and --gemm-precision")
        return mixed_main(a)
    out = {"batch": a.batch, "seq": a.seq, "steps": a.steps, "threads": a.threads,
           "repeat": a.repeat, "teacher_precision": a.teacher_precision,
           "gemm_precision": a.gemm_precision,
           "student": STUDENT, "load_before": os.getloadavg(),
           "omp_wait_policy": child_env().get("OMP_WAIT_POLICY", "libgomp default")}
    vocab = os.path.join(a.teacher, "vocab.txt")
    me = [sys.executable, os.path.abspath(__file__), "--teacher", a.teacher,
          "--steps", str(a.steps), "--batch", str(a.batch), "--seq", str(a.seq),
          "--threads", str(a.threads)]
    with tempfile.TemporaryDirectory() as tmp:
        make_data(tmp, vocab, n=a.batch * a.steps)
        common = ["--task", "sst2", "--data", tmp, "--vocab", vocab, "--batch", str(a.batch),
                  "--max-seq", str(a.seq), "--steps", str(a.steps), "--threads",
                  str(a.threads), "--json", "--progress", "off"]
        if a.only in (None, "distill"):
            for _ in range(a.repeat):
                so, rss = timed([a.distilc, "distill", os.path.join(a.teacher, "model.onnx"),
                                 "--student", "layers=4,hidden=312,heads=12,ffn=1200",
                                 "-o", os.path.join(tmp, "student.onnx"), "--dev-limit",
                                 "32"] + prec_args(a, teacher=True) + common)
                j = json.loads(so)
                r = {"stages": {s["stage"]: s["tokens_per_s"] for s in j["stages"]},
                     "steady": {s["stage"]: s.get("steady_tokens_per_s") for s in j["stages"]},
                     # where the intermediate stage's time went (seconds over
                     # the whole stage): the teacher's forward and the
                     # student's matmuls, the two parts made of oneDNN GEMMs
                     "split": {k: s.get(k) for s in j["stages"]
                               if s["stage"] == "intermediate"
                               for k in ("seconds", "teacher_s", "student_gemm_s",
                                         "student_gemm_gflop", "steps")},
                     "peak_rss_mb": rss}
                old = out.get("distilc_distill")
                if not old or r["stages"].get("intermediate", 0) > old["stages"].get("intermediate", 0):
                    out["distilc_distill"] = r
                so, rss = timed(me + ["--worker", "distill"])
                r = dict(json.loads(so), peak_rss_mb=rss)
                old = out.get("torch_distill")
                if not old or r["tokens_per_s_incl_first"] > old["tokens_per_s_incl_first"]:
                    out["torch_distill"] = r
            # distilc's tokens/s count from the loop's start, first step
            # included: compare like with like
            out["distill_speedup"] = (out["distilc_distill"]["stages"].get("intermediate", 0)
                                      / out["torch_distill"]["tokens_per_s_incl_first"])
            # and after each side's first step (setup: oneDNN's JIT and the
            # GEMM helper's per-shape timing here, allocator warm-up there),
            # the rate a run of thousands of steps settles at
            out["distill_speedup_steady"] = (
                out["distilc_distill"]["steady"].get("intermediate") or 0) / out[
                    "torch_distill"]["tokens_per_s"]
            # what 1.5x PyTorch leaves for the whole stage, against what the
            # teacher's forward and the student's GEMMs alone took
            sp = out["distilc_distill"]["split"]
            if sp.get("teacher_s") is not None and sp.get("student_gemm_s") is not None:
                tokens = a.batch * a.seq * sp["steps"]
                budget = tokens / (1.5 * out["torch_distill"]["tokens_per_s_incl_first"])
                out["budget_at_1_5x"] = {
                    "stage_s_allowed": budget, "stage_s": sp["seconds"],
                    "teacher_plus_student_gemm_s": sp["teacher_s"] + sp["student_gemm_s"],
                    "student_gemm_gflop_per_s": sp["student_gemm_gflop"] / sp["student_gemm_s"]}
        if a.only in (None, "finetune"):
            # the student as an ONNX classifier to fine-tune
            sdir = os.path.join(tmp, "student_model")
            subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "util",
                                                         "bert_export.py"), "--out", sdir,
                            "--layers", "4", "--hidden", "312", "--heads", "12",
                            "--ffn", "1200", "--vocab", "30522", "--max-pos", "512"],
                           check=True, capture_output=True)
            for _ in range(a.repeat):
                so, rss = timed([a.distilc, "finetune", os.path.join(sdir, "model.onnx"),
                                 "-o", os.path.join(tmp, "ft.onnx"), "--no-eval"]
                                + prec_args(a, teacher=False) + common)
                jf = json.loads(so)
                r = {"tokens_per_s": jf["tokens_per_s"],
                     "steady_tokens_per_s": jf.get("steady_tokens_per_s"), "peak_rss_mb": rss}
                old = out.get("distilc_finetune")
                if not old or r["tokens_per_s"] > old["tokens_per_s"]:
                    out["distilc_finetune"] = r
                so, rss = timed(me + ["--worker", "finetune"])
                r = dict(json.loads(so), peak_rss_mb=rss)
                old = out.get("torch_finetune")
                if not old or r["tokens_per_s_incl_first"] > old["tokens_per_s_incl_first"]:
                    out["torch_finetune"] = r
            out["finetune_speedup"] = (out["distilc_finetune"]["tokens_per_s"]
                                       / out["torch_finetune"]["tokens_per_s_incl_first"])
            out["finetune_speedup_steady"] = (
                out["distilc_finetune"]["steady_tokens_per_s"] or 0) / out[
                    "torch_finetune"]["tokens_per_s"]
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
