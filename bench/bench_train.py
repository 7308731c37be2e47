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
tests/py/bert_export.py). Also a plain fine-tuning step of the student
(`distilc finetune` vs torch). Reports tokens/s (non-padding tokens) and
peak RSS of each process (from /usr/bin/time) as JSON.

    /usr/bin/python3 bench/make_teacher_minilm.py --out /tmp/minilm
    /usr/bin/python3 bench/bench_train.py --teacher /tmp/minilm \
        --distilc build-rel/distilc [--steps 10] [--threads 2]

Note the machine load (uptime) beside the numbers: the development machine
is shared.

distilc's opt-in speed options can be passed through: --teacher-precision
bf16 (distill only) and --gemm-precision bf16 (distill and finetune); the
PyTorch side always runs fp32, so report such runs as a separate line.
"""
import argparse
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
    otherwise (the same setting for distilc and PyTorch)."""
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "passive")
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
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "py"))
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

    ids = torch.randint(1000, 30000, (B, T))
    mask = torch.ones(B, T, dtype=torch.long)
    types = torch.zeros(B, T, dtype=torch.long)
    labels = torch.randint(0, 2, (B,))
    Ls, Lt = scfg["layers"], tcfg["layers"]
    times = []
    for step in range(a.steps):
        t0 = time.time()
        opt.zero_grad()
        if teacher is None:
            logits = student(ids, mask, types)
            loss = torch.nn.functional.cross_entropy(logits, labels)
        else:
            with torch.no_grad():
                _, th, ts = taps(teacher, ids, mask, types)
            _, sh, ss = taps(student, ids, mask, types)
            loss = torch.nn.functional.mse_loss(sh[0] @ proj, th[0])
            for m in range(1, Ls + 1):
                g = m * Lt // Ls
                loss = loss + torch.nn.functional.mse_loss(sh[m] @ proj, th[g])
                loss = loss + torch.nn.functional.mse_loss(ss[m - 1], ts[g - 1])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        times.append(time.time() - t0)
    steady = times[1:] if len(times) > 1 else times
    print(json.dumps({"tokens_per_s": B * T * len(steady) / sum(steady),
                      "tokens_per_s_incl_first": B * T * len(times) / sum(times),
                      "step_s": sum(steady) / len(steady)}))


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
    ap.add_argument("--worker", choices=["distill", "finetune"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return torch_worker(a)
    if not a.teacher or not a.distilc:
        ap.error("--teacher and --distilc are required")
    out = {"batch": a.batch, "seq": a.seq, "steps": a.steps, "threads": a.threads,
           "repeat": a.repeat, "teacher_precision": a.teacher_precision,
           "gemm_precision": a.gemm_precision,
           "student": STUDENT, "load_before": os.getloadavg(),
           "omp_wait_policy": child_env()["OMP_WAIT_POLICY"]}
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
        if a.only in (None, "finetune"):
            # the student as an ONNX classifier to fine-tune
            sdir = os.path.join(tmp, "student_model")
            subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "py",
                                                         "bert_export.py"), "--out", sdir,
                            "--layers", "4", "--hidden", "312", "--heads", "12",
                            "--ffn", "1200", "--vocab", "30522", "--max-pos", "512"],
                           check=True, capture_output=True)
            for _ in range(a.repeat):
                so, rss = timed([a.distilc, "finetune", os.path.join(sdir, "model.onnx"),
                                 "-o", os.path.join(tmp, "ft.onnx"), "--no-eval"]
                                + prec_args(a, teacher=False) + common)
                r = {"tokens_per_s": json.loads(so)["tokens_per_s"], "peak_rss_mb": rss}
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
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
