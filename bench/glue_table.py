#!/usr/bin/python3
"""glue_table.py — the GLUE table of issue 17, end to end, resumable per task.

A benchmark driver, not part of the product. For each task (SST-2, MRPC,
CoLA, STS-B):
  1. the teacher: all-MiniLM-L6-v2's encoder with a fresh head
     (bench/make_teacher_minilm.py, once) fine-tuned in full by
     `distilc finetune --recipe distill/recipes/finetune-minilm-TASK.xml`
     (checkpoints in OUT/TASK/teacher-ckpt: a killed run resumes);
  2. `distilc compress --recipe distill/recipes/tinybert-glue-TASK.xml
     --latency-ms L --controls`, L the teacher's ONNX Runtime latency / 4
     (the issue's target; timed once, TASK/teacher-ort.json; --limit-from
     base: the base model's, the same graph, timed once before anything
     trains, OUT/base-ort.json, for tasks run side by side; --limit-from
     distilc: `--speedup 4`, a quarter of the teacher's distilc latency): supernet, search, intermediate and prediction
     distillation (augmentation on the small tasks), the build, and the two
     controls (fine-tuning alone, prediction loss alone), every stage's work
     a step count; a killed compress resumes through its own state.json;
  3. ONNX Runtime latencies of teacher and student at compress's setting
     (bench/compress_report_ort.py);
  4. OUT/TASK/row.json: the row. A task with a row is skipped on a rerun.
Then OUT/glue_table.json and OUT/glue_table.md: teacher metric, student
shape, parameters, the student's latency in distilc against the teacher's
in ONNX Runtime, the three rows (fine-tune only, prediction KD only, the
full method), the metric as GLUE defines it, the wall time, and TinyBERT-4's
published row beside each task (Jiao et al. 2020, table 1: GLUE test set,
BERT-base teacher), with the issue's targets checked.

    python3 bench/glue_table.py --out /tmp/glue-table            # hours
    # on 2 cores, side by side, one core each (latency on the CPU clock):
    python3 bench/glue_table.py --out T --tasks mrpc,stsb --teachers-only \
        --train-threads 1 &
    python3 bench/glue_table.py --out T --tasks cola --train-threads 1 --threads 1
    python3 bench/glue_table.py --out /tmp/q --quick ...          # seconds
    python3 bench/glue_table.py --out T --retime   # finished tasks timed again, alone

--quick: tiny step counts (3 fine-tuning steps, 2 supernet and
distillation steps, a search of 4 candidates), 64 training and 32 dev
examples of at most 32 tokens: proves the script and the commands it runs, not the numbers
(tests/tools/test_glue_table.sh runs it in ctest). Exit status: 0 ok, 1 a
command failed (its output is in OUT/TASK/*.log), 2 bad usage.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RECIPES = os.path.join(ROOT, "distill", "recipes")

# name, GLUE's metric for the table (distilc's metric key), and TinyBERT-4's
# published test-set row with its BERT-base teacher (Jiao et al. 2020,
# table 1: F1 for MRPC, Spearman for STS-B, Matthews for CoLA)
TASKS = {
    "sst2": {"name": "SST-2", "metric": "accuracy", "glue": "accuracy",
             "tinybert": {"teacher": 93.4, "student": 92.6}},
    "mrpc": {"name": "MRPC", "metric": "f1", "glue": "F1",
             "tinybert": {"teacher": 87.5, "student": 86.4}},
    "cola": {"name": "CoLA", "metric": "matthews_correlation", "glue": "Matthews corr.",
             "tinybert": {"teacher": 52.8, "student": 44.1}},
    "stsb": {"name": "STS-B", "metric": "spearmanr", "glue": "Spearman",
             "tinybert": {"teacher": 85.2, "student": 80.4}},
}
TARGET_SPEEDUP = 4.0   # the student's distilc latency vs the teacher's ORT latency
TARGET_AVERAGE = 0.96  # of the teacher's metric, over the four tasks


def log(msg):
    print("glue_table: " + msg, file=sys.stderr, flush=True)


def run(cmd, logpath, what, clock=None, stdout=None):
    """Runs cmd with stderr (and stdout unless given a file) appended to
    logpath, its wall time added to clock (a WallClock) as it goes; exits 1
    on failure."""
    with open(logpath, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.Popen(cmd, stdout=stdout or f, stderr=subprocess.STDOUT
                                if stdout is None else f)
        while True:
            t0 = time.time()
            try:
                rc = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                rc = None
            if clock:
                clock.add(time.time() - t0)
            if rc is not None:
                break
    if rc != 0:
        log("%s failed (exit %d); see %s" % (what, rc, logpath))
        with open(logpath) as f:
            tail = f.read()[-1500:]
        sys.stderr.write(tail + "\n")
        sys.exit(1)


class WallClock:
    """Seconds a task's commands have run, over every run of this script:
    TASK/wall.json {"teacher": s, "compress": s}, written every 30 s, so a
    killed and resumed table still counts the time the killed run spent
    (within 30 s). compress's own report counts a resumed stage's last run
    only."""

    def __init__(self, tdir, part):
        self.path, self.part = os.path.join(tdir, "wall.json"), part

    def read(self):
        try:
            with open(self.path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def add(self, seconds):
        w = self.read()
        w[self.part] = w.get(self.part, 0.0) + seconds
        write_json(self.path, w)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def quick_recipe(src, dst):
    """The recipe with tiny step counts (--quick): 2 supernet and
    distillation steps, a search of 4 x 1, one augmented copy, batch 8,
    32 tokens."""
    tree = ET.parse(src)
    root = tree.getroot()
    for stage in ("supernet", "intermediate", "prediction"):
        el = root.find(stage)
        if el is None:
            continue
        for k, v in (("steps", "2"), ("batch", "8"), ("ckpt-every", "1"),
                     ("max-seq", "32")):
            sub = el.find(k)
            if sub is None:
                sub = ET.SubElement(el, k)
            sub.text = v
    s = root.find("search")
    if s is not None:
        s.set("population", "4")
        s.set("generations", "1")
    a = root.find("augment")
    if a is not None:
        a.set("copies", "1")
    for k in ("data", "vocab"):  # the command line gives them
        el = root.find(k)
        if el is not None:
            root.remove(el)
    text = ET.tostring(root, encoding="unicode")
    # rewritten only when it changes (compress fingerprints the settings,
    # so a rewrite would be harmless; this keeps the file's date meaningful)
    if os.path.exists(dst):
        with open(dst) as f:
            if f.read() == text:
                return
    with open(dst, "w") as f:
        f.write(text)


def base_model(a, out):
    """(model.onnx, vocab.txt) to fine-tune: --base-model, or MiniLM-L6's
    encoder with a fresh head (made once)."""
    if a.base_model:
        return a.base_model, a.vocab
    d = os.path.join(out, "base")
    model, vocab = os.path.join(d, "model.onnx"), os.path.join(d, "vocab.txt")
    if not os.path.exists(model):
        run([sys.executable, os.path.join(HERE, "make_teacher_minilm.py"), "--out", d,
             "--labels", "2"], os.path.join(out, "base.log"), "make_teacher_minilm.py")
    return model, a.vocab or vocab


def teacher(a, key, tdir, model, vocab):
    """Fine-tunes the teacher (resuming a killed run); returns its report."""
    done = os.path.join(tdir, "teacher.json")
    onnx = os.path.join(tdir, "teacher.onnx")
    if os.path.exists(done) and os.path.exists(onnx):
        with open(done) as f:
            return json.load(f)
    ck = os.path.join(tdir, "teacher-ckpt")
    cmd = [a.distilc, "finetune", model, "--recipe",
           os.path.join(RECIPES, "finetune-minilm-%s.xml" % key), "--data", a.glue,
           "--vocab", vocab, "-o", onnx, "--ckpt-dir", ck, "--json", "--progress", "off"]
    if a.train_threads:
        cmd += ["--threads", str(a.train_threads)]
    if a.quick:
        cmd += ["--steps", "3", "--limit", "64", "--dev-limit", "32", "--ckpt-every", "1",
                "--max-seq", "32"]
    if os.path.exists(os.path.join(ck, "last.ckpt")):
        cmd.append("--resume")
    log("%s: fine-tuning the teacher" % TASKS[key]["name"])
    clock = WallClock(tdir, "teacher")
    res_path = os.path.join(tdir, "teacher.out")
    with open(res_path, "w") as out:
        run(cmd, os.path.join(tdir, "teacher.log"), "distilc finetune", clock, stdout=out)
    with open(res_path) as f:
        rep = json.loads(f.read().strip().splitlines()[-1])
    rep["wall_seconds"] = clock.read().get("teacher")
    write_json(done, rep)
    return rep


def latency_setting(a):
    """(seq, batch, threads) compress times at: the space's, --threads over
    its threads."""
    space = a.space or os.path.join(ROOT, "search", "spaces", "default.xml")
    lat = ET.parse(space).getroot().find(".//latency")
    if lat is None:
        raise SystemExit("glue_table: %s has no <latency> setting" % space)
    return (int(lat.get("seq")), int(lat.get("batch")),
            a.threads or int(lat.get("threads")))


def time_ort(a, path, seq, batch, threads, clock):
    """path's latency in ONNX Runtime (ms), as compress_report_ort.py times."""
    sys.path.insert(0, HERE)
    from compress_report_ort import time_model
    runs, warmup = (3, 1) if a.quick else (15, 3)
    ms, _ = time_model(path, seq, batch, threads, runs, warmup, None, clock)
    return ms


def time_base_ort(a, model):
    """--limit-from base: the base model timed once, before anything trains,
    in OUT/base-ort.json. Fine-tuning changes its weights, not its graph, so
    this is the teacher's latency, and tasks that run side by side never time
    a teacher beside another task's training (which slows it)."""
    path = os.path.join(a.out, "base-ort.json")
    if os.path.exists(path):
        return
    seq, batch, threads = latency_setting(a)
    clock = "cpu" if threads == 1 else "wall"
    ms = time_ort(a, model, seq, batch, threads, clock)
    write_json(path, {"model": model, "ort_ms": ms, "seq": seq, "batch": batch,
                      "threads": threads, "clock": clock})
    log("the base model takes %.2f ms in ONNX Runtime (--limit-from base)" % ms)


def ort_limit_ms(a, key, tdir):
    """The latency limit the issue's target sets: the teacher's ONNX Runtime
    latency at compress's setting over --speedup, less --margin. Timed once and kept in
    TASK/teacher-ort.json, so a resumed compress gets the same limit (a new
    one would redo its search)."""
    path = os.path.join(tdir, "teacher-ort.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)["limit_ms"]
    if a.limit_from == "base":
        with open(os.path.join(a.out, "base-ort.json")) as f:
            got = json.load(f)
        ms, (seq, batch, threads, clock) = got["ort_ms"], (got["seq"], got["batch"],
                                                           got["threads"], got["clock"])
        source = "the base model (the teacher's graph before fine-tuning), timed first"
    else:
        seq, batch, threads = latency_setting(a)
        clock = "cpu" if threads == 1 else "wall"
        ms = time_ort(a, os.path.join(tdir, "teacher.onnx"), seq, batch, threads, clock)
        source = "the teacher"
    limit = ms / a.speedup / (1 + a.margin)
    write_json(path, {"teacher_ort_ms": ms, "speedup": a.speedup, "margin": a.margin,
                      "limit_ms": limit, "source": source,
                      "seq": seq, "batch": batch, "threads": threads, "clock": clock})
    log("%s: the teacher takes %.2f ms in ONNX Runtime: the student's limit is %.3f ms"
        % (TASKS[key]["name"], ms, limit))
    return limit


def compress(a, key, tdir, vocab):
    """Runs (or resumes) compress and the ONNX Runtime timing; its report."""
    out = os.path.join(tdir, "compress")
    recipe = os.path.join(RECIPES, "tinybert-glue-%s.xml" % key)
    if a.quick:
        q = os.path.join(tdir, "recipe-quick.xml")
        quick_recipe(recipe, q)
        recipe = q
    cmd = [a.distilc, "compress", os.path.join(tdir, "teacher.onnx"), "--recipe", recipe,
           "--data", a.glue, "--vocab", vocab, "--controls", "--progress", "json", "-o", out]
    if a.limit_from in ("ort", "base"):
        cmd += ["--latency-ms", "%.6g" % ort_limit_ms(a, key, tdir)]
    else:
        cmd += ["--speedup", str(a.speedup)]
    if a.space:
        cmd += ["--space", a.space]
    if a.cache:
        cmd += ["--cache", a.cache]
    if a.train_threads:
        cmd += ["--train-threads", str(a.train_threads)]
    if a.threads:
        # one thread timed on its own CPU clock: two tasks can run side by
        # side (one core each) without moving each other's latencies
        cmd += ["--threads", str(a.threads)] + (["--clock", "cpu"] if a.threads == 1 else [])
    if a.quick:
        cmd += ["--limit", "64", "--dev-limit", "32"]
    log("%s: compress (a rerun resumes it)" % TASKS[key]["name"])
    clock = WallClock(tdir, "compress")
    run(cmd, os.path.join(tdir, "compress.log"), "distilc compress", clock)
    runs = ["--runs", "3", "--warmup", "1"] if a.quick else []
    run([sys.executable, os.path.join(HERE, "compress_report_ort.py"), out] + runs,
        os.path.join(tdir, "ort.log"), "compress_report_ort.py")
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    rep["_wall_seconds"] = clock.read().get("compress")
    return rep


def retime(a, key, tdir, row):
    """Times teacher and student again, alone on a quiet machine (--retime):
    the student and the teacher in distilc (`distilc bench`, 30 runs, the
    median) and both in ONNX Runtime (compress_report_ort.py), at the row's
    setting. compress timed them while the table's other work ran; those
    figures stay in the row as "during_compress"."""
    st = row["setting"]
    out = os.path.join(tdir, "compress")
    runs = ["--runs", "3", "--warmup", "1"] if a.quick else ["--runs", "30"]
    got = {}
    for who, path in (("teacher", os.path.join(tdir, "teacher.onnx")),
                      ("student", os.path.join(out, "student.onnx"))):
        res = subprocess.run([a.distilc, "bench", path, "--seq", str(st["seq"]), "--batch",
                              str(st["batch"]), "--threads", str(st["threads"]), "--json"]
                             + runs, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        if res.returncode != 0:
            log("%s: distilc bench %s failed: %s" % (TASKS[key]["name"], who, res.stderr))
            sys.exit(1)
        got[who] = json.loads(res.stdout)["median_ms"]
    logp = os.path.join(tdir, "ort.log")
    ortrun = [sys.executable, os.path.join(HERE, "compress_report_ort.py"), out]
    with open(os.path.join(tdir, "ort-retime.json"), "w") as f:
        run(ortrun + (["--runs", "3", "--warmup", "1"] if a.quick else []), logp,
            "compress_report_ort.py", stdout=f)
    with open(os.path.join(tdir, "ort-retime.json")) as f:
        ort = json.loads(f.read().strip().splitlines()[-1])
    if "during_compress" not in row:
        row["during_compress"] = {
            "student_distilc_ms": row["student"]["distilc_latency_ms"],
            "teacher_distilc_ms": row["teacher"]["distilc_latency_ms"],
            "teacher_ort_ms": row["teacher"]["ort_latency_ms"],
            "student_ort_ms": row["student"]["ort_latency_ms"]}
    if "search_timing_load" not in row:  # a row made before the field was
        with open(os.path.join(out, "report.json")) as f:
            row["search_timing_load"] = (json.load(f).get("search") or {}).get("timing_load")
    row["student"]["distilc_latency_ms"] = got["student"]
    row["teacher"]["distilc_latency_ms"] = got["teacher"]
    row["teacher"]["ort_latency_ms"] = ort["teacher_ort_ms"]
    row["student"]["ort_latency_ms"] = ort["student_ort_ms"]
    row["speedup_vs_teacher_ort"] = ort["teacher_ort_ms"] / got["student"]
    row["timing"] = "retimed alone: distilc bench (median of %s runs) and " \
        "ONNX Runtime (compress_report_ort.py), %s" % (runs[1], time.strftime(
            "%Y-%m-%d %H:%M UTC", time.gmtime()))
    log("%s: retimed: student %.2f ms in distilc, teacher %.2f ms in ONNX Runtime (%.2fx)"
        % (TASKS[key]["name"], got["student"], ort["teacher_ort_ms"],
           row["speedup_vs_teacher_ort"]))
    return row


def metric_of(metrics, key):
    v = (metrics or {}).get(key)
    return None if v is None else float(v)


def make_row(key, trep, crep):
    t = TASKS[key]
    m = t["metric"]
    rows = {r["name"]: r for r in crep["controls"]["rows"]}
    teacher_dev = metric_of(crep["teacher"]["metrics"], m)
    full = metric_of(crep["student"]["metrics"], m)
    ft = metric_of(rows.get("finetune", {}).get("metrics"), m)
    kd = metric_of(rows.get("kd", {}).get("metrics"), m)
    sl = crep["student"].get("latency_ms")
    tort = crep["teacher"].get("ort_latency_ms")
    tb = t["tinybert"]
    return {
        "task": t["name"], "metric": m, "glue_metric": t["glue"],
        "teacher": {"dev": teacher_dev, "shape": crep["teacher"]["shape"],
                    "parameters": crep["teacher"]["parameters"],
                    "distilc_latency_ms": crep["teacher"].get("latency_ms"),
                    "ort_latency_ms": tort,
                    "finetune_seconds": trep.get("seconds"),
                    "finetune_best_dev": trep.get("best_dev")},
        "student": {"shape": crep["student"]["shape"],
                    "parameters": crep["student"]["parameters"],
                    "distilc_latency_ms": sl,
                    "ort_latency_ms": crep["student"].get("ort_latency_ms")},
        "speedup_vs_teacher_ort": tort / sl if tort and sl else None,
        "finetune_only": ft, "kd_only": kd, "full": full,
        "kept": full / teacher_dev if full is not None and teacher_dev else None,
        "steps": rows.get("full", {}).get("steps"),
        "setting": crep["setting"],
        "latency_limit_ms": ((crep.get("search") or {}).get("constraints") or {}).get("latency_ms"),
        # how busy the machine was while the search's latency model timed:
        # timings beside another task's training run slow (BENCHMARKS.md)
        "search_timing_load": (crep.get("search") or {}).get("timing_load"),
        # both count too little at times: the script's clock (WallClock) misses
        # runs by other means, compress's own total a resumed stage's killed
        # runs; the larger is the nearer
        "wall_seconds": (trep.get("wall_seconds") or 0) +
                        max(crep.get("_wall_seconds") or 0, crep.get("total_seconds") or 0),
        "stages": crep["stages"],
        "tinybert4": {"teacher": tb["teacher"], "student": tb["student"],
                      "kept": tb["student"] / tb["teacher"],
                      "note": "GLUE test set, BERT-base teacher (Jiao et al. 2020, table 1)"},
    }


def targets(rows):
    kept = [r["kept"] for r in rows if r["kept"] is not None]
    out = {"average_kept": sum(kept) / len(kept) if kept else None,
           "average_target": TARGET_AVERAGE, "tasks": {}}
    for r in rows:
        out["tasks"][r["task"]] = {
            "kept_vs_tinybert4": (r["kept"] is not None and
                                  r["kept"] >= r["tinybert4"]["kept"]),
            "beats_controls": (r["full"] is not None and
                               all(c is not None and r["full"] > c
                                   for c in (r["finetune_only"], r["kd_only"]))),
            "speedup_4x": (r["speedup_vs_teacher_ort"] or 0) >= TARGET_SPEEDUP}
    return out


def pct(v):
    return "n/a" if v is None else "%.1f" % (100 * v)


def ms(v):
    return "n/a" if v is None else "%.2f" % v


def wall(s):
    if s is None:
        return "n/a"
    return "%.1f h" % (s / 3600) if s >= 3600 else "%.0f min" % (s / 60) if s >= 60 \
        else "%.0f s" % s


def markdown(rows, tg, quick):
    lines = []
    if quick:
        lines.append("*--quick: tiny step counts and data slices; the numbers "
                     "prove the pipeline runs, not its accuracy.*\n")
    lines += [
        "| task | GLUE metric | teacher (dev) | student shape | parameters (teacher → student) "
        "| student in distilc (ms) | teacher in ONNX Runtime (ms) | speedup "
        "| fine-tune only | prediction KD only | full method | kept | wall time |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            "| %s | %s | %s | %s | %.1fM → %.2fM | %s | %s | %s | %s | %s | **%s** | %s%% | %s |"
            % (r["task"], r["glue_metric"], pct(r["teacher"]["dev"]), r["student"]["shape"],
               r["teacher"]["parameters"] / 1e6, r["student"]["parameters"] / 1e6,
               ms(r["student"]["distilc_latency_ms"]), ms(r["teacher"]["ort_latency_ms"]),
               "n/a" if r["speedup_vs_teacher_ort"] is None
               else "%.1fx" % r["speedup_vs_teacher_ort"],
               pct(r["finetune_only"]), pct(r["kd_only"]), pct(r["full"]), pct(r["kept"]),
               wall(r["wall_seconds"])))
        tb = r["tinybert4"]
        lines.append("| %s, TinyBERT-4 (paper: test set, BERT-base teacher) | %s | %.1f | "
                     "L4 H312 A12 F1200 | 109M → 14.5M | | | 9.4x (GPU) | | | %.1f | %.1f%% | |"
                     % (r["task"], r["glue_metric"], tb["teacher"], tb["student"],
                        100 * tb["kept"]))
    lines.append("")
    lines.append("Average kept over the tasks: %s%% (target %.0f%%)."
                 % (pct(tg["average_kept"]), 100 * TARGET_AVERAGE))
    for task, t in tg["tasks"].items():
        lines.append("- %s: kept at least TinyBERT-4's fraction: %s; beats both controls: "
                     "%s; at least %.0fx faster than the teacher in ONNX Runtime: %s"
                     % (task, "yes" if t["kept_vs_tinybert4"] else "no",
                        "yes" if t["beats_controls"] else "no", TARGET_SPEEDUP,
                        "yes" if t["speedup_4x"] else "no"))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="the table's folder (resumable)")
    ap.add_argument("--tasks", default="sst2,mrpc,cola,stsb")
    ap.add_argument("--distilc", default=os.path.join(ROOT, "build", "distilc"))
    ap.add_argument("--glue", default=os.path.join(ROOT, "..", "shared", "glue"))
    ap.add_argument("--base-model", help="ONNX to fine-tune (default: MiniLM-L6's "
                    "encoder, made by bench/make_teacher_minilm.py)")
    ap.add_argument("--vocab", help="its vocab.txt (needed with --base-model)")
    ap.add_argument("--speedup", type=float, default=TARGET_SPEEDUP,
                    help="the student's latency limit: the teacher's / SPEEDUP (4)")
    ap.add_argument("--margin", type=float, default=0.05,
                    help="with --limit-from ort, the limit is cut by this fraction more: "
                    "the latency model's error (about 5%%, `distilc latency-model "
                    "--validate`) and ONNX Runtime's run-to-run noise (2-3%%)")
    ap.add_argument("--limit-from", choices=("ort", "base", "distilc"), default="ort",
                    help="whose teacher latency the limit divides: ONNX Runtime's, as "
                    "the target is stated (default); ONNX Runtime's of the base model, "
                    "the same graph, timed once before anything trains (for tasks "
                    "side by side); or distilc's (compress --speedup)")
    ap.add_argument("--space", help="compress --space (default: the built-in space)")
    ap.add_argument("--cache", help="compress --cache (latency cache)")
    ap.add_argument("--train-threads", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0,
                    help="the latency setting's threads (default: the space's); 1 "
                    "also times on the CPU clock, so side-by-side runs do not "
                    "disturb it")
    ap.add_argument("--retime", action="store_true",
                    help="time the finished tasks' teacher and student again (run it "
                    "alone: the table's runs share the cores)")
    ap.add_argument("--teachers-only", action="store_true",
                    help="fine-tune the teachers and stop (no compress, no table)")
    ap.add_argument("--quick", action="store_true",
                    help="tiny step counts and data: seconds, not hours")
    a = ap.parse_args()
    keys = [k.strip().lower().replace("-", "") for k in a.tasks.split(",") if k.strip()]
    bad = [k for k in keys if k not in TASKS]
    if bad or not keys:
        print("glue_table: --tasks: unknown %s (sst2, mrpc, cola, stsb)" % ",".join(bad),
              file=sys.stderr)
        return 2
    if a.base_model and not a.vocab:
        print("glue_table: --base-model needs --vocab", file=sys.stderr)
        return 2
    if not os.access(a.distilc, os.X_OK):
        print("glue_table: --distilc %s: not an executable (build first)" % a.distilc,
              file=sys.stderr)
        return 2
    # the ONNX Runtime timing runs last, hours in: find out now whether this
    # interpreter can run it
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as e:
        print("glue_table: %s cannot import %s, which bench/compress_report_ort.py "
              "needs (run the script with the interpreter the tests use, "
              "/usr/bin/python3)" % (sys.executable, e.name), file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    model, vocab = base_model(a, a.out)
    if a.limit_from == "base" and not a.teachers_only:
        time_base_ort(a, model)
    rows = []
    for key in keys:
        tdir = os.path.join(a.out, key)
        os.makedirs(tdir, exist_ok=True)
        rowp = os.path.join(tdir, "row.json")
        if os.path.exists(rowp):
            log("%s: done (delete %s to redo it)" % (TASKS[key]["name"], rowp))
            with open(rowp) as f:
                row = json.load(f)
            if a.retime:
                row = retime(a, key, tdir, row)
                write_json(rowp, row)
            rows.append(row)
            continue
        trep = teacher(a, key, tdir, model, vocab)
        if a.teachers_only:
            log("%s: teacher %s = %s" % (TASKS[key]["name"], trep.get("dev_metric"),
                                        trep.get("best_dev")))
            continue
        crep = compress(a, key, tdir, vocab)
        row = make_row(key, trep, crep)
        write_json(rowp, row)
        rows.append(row)
        log("%s: teacher %s, full %s, fine-tune %s, KD %s (%s)" % (
            row["task"], pct(row["teacher"]["dev"]), pct(row["full"]),
            pct(row["finetune_only"]), pct(row["kd_only"]), row["metric"]))
    if a.teachers_only:
        return 0
    tg = targets(rows)
    write_json(os.path.join(a.out, "glue_table.json"),
               {"format": "distilc-glue-table", "version": 1, "quick": a.quick,
                "rows": rows, "targets": tg})
    md = markdown(rows, tg, a.quick)
    with open(os.path.join(a.out, "glue_table.md"), "w") as f:
        f.write(md)
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
