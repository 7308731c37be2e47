#!/usr/bin/env python3
"""test_families_pipeline.py - `distilc distill` and `distilc compress` with
teachers of each family the trainer takes (issue 16), exported each way of
families.WAYS (torch opset 14, Optimum, ORT's transformer optimizer): the
distill and compress columns of BENCHMARKS.md's families table.

For each (family, way), one exported teacher (tests/util/families.py:
H 32, 2 heads of 16 dims so the search has students to pick, FFN 48, 2
layers, random weights) is
- distilled: `distill --student layers=1,hidden=16,heads=2,ffn=32`, STEPS
  steps a stage, on lib.sh's tiny SST-2 (tiny_glue). The student's ONNX
  takes exactly the teacher's inputs (names and order; no token_type_ids
  for DistilBERT, RoBERTa, XLM-R), keeps the family's head (DistilBERT's
  Relu, RoBERTa's CumSum positions and Tanh), and onnxruntime's logits on
  the teacher's padded batch equal `distilc run`'s (reference and oneDNN);
- compressed: `compress` with a tiny space (1-2 layers, hidden 16/32),
  STEPS supernet and distillation steps, one thread. report.json is sane
  (both models measured on dev, the student no larger, a supernet trained
  and candidates scored, the stages' steps as asked),
  supernet.onnx and student.onnx take the teacher's inputs, and the
  emitted program OUT/bin/model answers JSON lines keyed by the teacher's
  input names with onnxruntime's logits of student.onnx; it refuses a
  token_type_ids key when the teacher has none.
RoBERTa's and XLM-R's data is tokenized by a tokenizer.json (a Unigram one
trained here on the tiny text, <pad> = 1, XLM-R's template), given as
--tokenizer (distill finds XLM-R's beside the teacher instead). Every
logits comparison is at 1e-4 (fp32).

The full matrix (FAMILIES x WAYS) runs when DISTILC_FAMILIES_FULL=1
(scripts/test.sh sets it for the native Release pass); otherwise a subset
(SUBSET: every way at least once, the BERT-like families and ALBERT once
each) keeps the AVX2 and sanitizer passes short, and the test says which
it ran. ELECTRA-small and ALBERT compress through a supernet unfolded from
the teacher (one weight set a layer, H-wide embedding tables) and give
unfactorized students; MPNet's supernet, candidates and student carry its
relative position bias (checked: the student's relative_bias table). PENDING lists the
families the trainer does not take yet: the full run checks they are
refused with a clear message and notes when one starts to work (add it to
FAMILIES then). A teacher whose heads are smaller than the search allows is
refused by compress with exit 2, naming why, and so are --vocab with
--tokenizer and a missing tokenizer.json, by compress and distill. A
RoBERTa regression teacher distils on STS-B pairs tokenized by BERT's
vocab.txt, whose text B has token type 1 (the teacher has one type row).

Usage: test_families_pipeline.py [PATH/TO/distilc]  (default: $DISTILC_BIN)
Prints "skipped: ..." and exits 77 without torch, onnx, onnxruntime,
tokenizers or transformers. Ends with "N passed, N failed".
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "util"))
import model_util as mu  # noqa: E402

np, onnx, _, _ = mu.require("numpy", "onnx", "onnxruntime", "tokenizers")
mu.import_transformers()
import families  # noqa: E402

# The families distill and compress take: all of families.FAMILIES.
# ELECTRA-small and ALBERT (embeddings projected after their LayerNorm,
# ALBERT's one shared layer) compress through an unfolded supernet; MPNet's
# students carry its relative position bias. A family brought to the
# trainer later starts in PENDING and moves to FAMILIES when it distils.
FAMILIES = ("bert", "distilbert", "roberta", "xlmr", "electra-base",
            "electra-small", "albert", "mpnet")
PENDING = ()
# Without DISTILC_FAMILIES_FULL: each way at least once, the BERT-like
# families once each and ALBERT (shared and factorized: the unfolded
# supernet); the full run adds ELECTRA-small and MPNet.
SUBSET = (("bert", "ort"), ("distilbert", "optimum"), ("roberta", "torch"),
          ("xlmr", "ort"), ("electra-base", "optimum"), ("albert", "torch"))
FULL = os.environ.get("DISTILC_FAMILIES_FULL") == "1"

HEADS = 2      # 16 dims a head: the search keeps heads of at least 16
STEPS = 2      # per distillation stage, and the supernet's
TOL = 1e-4
STUDENT = "layers=1,hidden=16,heads=2,ffn=32"
SPACE = """<?xml version="1.0"?>
<space version="1">
  <choices>
    <layers>1 2</layers>
    <hidden>16 32</hidden>
    <heads>1 2</heads>
    <ffn>16 32</ffn>
    <embed>0</embed>
    <sharing>none</sharing>
  </choices>
  <constraints>
    <latency ms="50" seq="16" batch="1" threads="1" precision="fp32"/>
  </constraints>
</space>
"""
# Families whose own tokenizer is a tokenizer.json with <pad> = 1.
TOKENIZER_JSON = ("roberta", "xlmr")

checks = mu.Checks()
check = checks.check


def tiny_glue(tmp):
    """lib.sh's tiny_glue: TMP/vocab.txt, TMP/glue/SST-2 (48 train, 24
    dev) and TMP/corpus.txt."""
    lib = os.path.join(HERE, "..", "util", "lib.sh")
    subprocess.run(["bash", "-c", f'TMP="$1" PY="$2"; . "{lib}"; tiny_glue', "-",
                    tmp, sys.executable], check=True)


def unigram_tokenizer(tmp):
    """An XLM-R-style tokenizer.json trained on the tiny SST-2 text:
    <s> 0, <pad> 1, </s> 2, <unk> 3, Metaspace, Unigram,
    <s> A </s></s> B </s>. Its ids stay below the families' 99 words."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # deterministic training
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    text = []
    for split in ("train", "dev"):
        with open(os.path.join(tmp, "glue", "SST-2", f"{split}.tsv")) as f:
            text += [line.split("\t")[0] for line in f.read().splitlines()[1:]]
    t = Tokenizer(models.Unigram())
    t.pre_tokenizer = pre_tokenizers.Metaspace("\u2581", prepend_scheme="always")
    t.train_from_iterator(text, trainers.UnigramTrainer(
        vocab_size=80, show_progress=False, unk_token="<unk>",
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"]))
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)])
    path = os.path.join(tmp, "tokenizer.json")
    t.save(path)
    check(t.token_to_id("<pad>") == 1 and t.get_vocab_size() < families.VOCAB,
          f"tokenizer.json: <pad> {t.token_to_id('<pad>')}, "
          f"{t.get_vocab_size()} tokens")
    return path


def export(fam, way, d, torch_model):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        return families.export(fam, d, way=way, torch_model=torch_model, heads=HEADS)


def graph_inputs(path):
    return [i.name for i in onnx.load(path, load_external_data=False).graph.input]


def ort_logits(model, case):
    """onnxruntime on MODEL with the teacher's padded batch, fed by the
    teacher's input names."""
    feeds = dict(case.inputs)
    names = graph_inputs(model)
    return mu.ort_run(model, {n: feeds[n] for n in names}, ["logits"])[0]


def json_lines(case, names):
    arrays = dict(case.inputs)
    rows = arrays["input_ids"].shape[0]
    return "".join(json.dumps({n: arrays[n][b].tolist() for n in names}) + "\n"
                   for b in range(rows))


def tokenizer_args(fam, tmp, case_dir, command):
    """RoBERTa's and XLM-R's tokenizer.json as --tokenizer, except that
    distill finds XLM-R's beside the teacher; the BERT-like families use
    tiny_glue's vocab.txt."""
    if fam in TOKENIZER_JSON:
        if command == "distill" and fam == "xlmr":
            os.link(os.path.join(tmp, "tokenizer.json"),
                    os.path.join(case_dir, "tokenizer.json"))
            return []
        return ["--tokenizer", os.path.join(tmp, "tokenizer.json")]
    return ["--vocab", os.path.join(tmp, "vocab.txt")]


# ---- distill ------------------------------------------------------------------

# What a student of the family must still compute: DistilBERT's relu head,
# RoBERTa's and XLM-R's positions counted over non-pad ids, BERT's tanh
# pooler.
FAMILY_OPS = {"distilbert": {"Relu"}, "roberta": {"CumSum", "Tanh"},
              "xlmr": {"CumSum", "Tanh"}, "bert": {"Tanh"}}


def check_family_ops(what, path, fam):
    ops = {n.op_type for n in onnx.load(path).graph.node}
    want = FAMILY_OPS.get(fam, set())
    check(want <= ops, f"{what}: the family's head/positions: {want - ops} missing")


def check_student_inputs(what, path, case):
    got = graph_inputs(path)
    check(got == case.names, f"{what}: inputs {got}, the teacher's {case.names}")
    return got == case.names


def run_distill(fam, way, case, tmp):
    """The distill cell: max |onnxruntime - distilc run| over ref and
    onednn, or None when something failed (counted)."""
    what = f"{fam} {way} distill"
    out = os.path.join(case.dir, "student.onnx")
    r = distilc("distill", case.model, "--task", "sst2", "--data",
                os.path.join(tmp, "glue"), *tokenizer_args(fam, tmp, case.dir, "distill"),
                "--batch", "8", "--max-seq", "32", "--student", STUDENT,
                "--steps", str(STEPS), "--threads", "1", "--json", "-o", out)
    if not check(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stderr[-600:]}"):
        return None
    j = json.loads(r.stdout)
    check(len(j["stages"]) == 2 and all(s["steps"] == STEPS for s in j["stages"]),
          f"{what}: stages {j['stages']}")
    if not check_student_inputs(what, out, case):
        return None
    check_family_ops(what, out, fam)
    want = ort_logits(out, case)
    worst = 0.0
    for backend in ("ref", "onednn"):
        got, rr = mu.run_model(distilc, out, case.input_files,
                               os.path.join(case.dir, f"run-{backend}"),
                               "--backend", backend)
        diff = mu.max_diff(got[0] if got else None, want)
        check(rr.returncode == 0 and diff <= TOL,
              f"{what}: distilc run --backend {backend} vs onnxruntime: exit "
              f"{rr.returncode}, max |diff| {diff:.3g}: {rr.stderr[-300:]}")
        worst = max(worst, diff)
    return worst


# ---- compress -----------------------------------------------------------------

def compress(teacher, out, tmp, tok_args, *extra):
    return distilc("compress", teacher, "--task", "sst2", "--data",
                   os.path.join(tmp, "glue"), *tok_args, "--space",
                   os.path.join(tmp, "space.xml"), "--cache",
                   os.path.join(tmp, "latency.json"), "--steps", str(STEPS),
                   "--supernet-steps", str(STEPS), "--threads", "1",
                   "--train-threads", "1", "--progress", "off", "-o", out, *extra)


def check_report(what, rep):
    t, s = rep["teacher"], rep["student"]
    ok = all(m["parameters"] > 0 and m["latency_ms"] > 0 and m["dev_examples"] == 24
             and 0 <= m["metrics"]["accuracy"] <= 1 for m in (t, s))
    ok = ok and s["parameters"] <= t["parameters"]
    stages = rep["distill"]["stages"]
    ok = ok and [x["name"] for x in stages] == ["intermediate", "prediction"]
    ok = ok and all(x["steps"] == STEPS for x in stages)
    sn = rep["supernet"]
    ok = ok and sn["trained"] and sn["steps"] == STEPS and rep["search"]["evaluated"] > 0
    check(ok, f"{what}: report.json: teacher {t}, student {s}, stages {stages}, "
          f"supernet {sn}")


def run_program(what, program, case, names):
    p = subprocess.run([program], input=json_lines(case, names),
                       capture_output=True, text=True)
    if p.returncode != 0:
        check(False, f"{what}: the program: exit {p.returncode}: {p.stderr[-300:]}")
        return None
    return np.array([json.loads(line)["logits"] for line in p.stdout.splitlines()],
                    dtype=np.float32)


def run_compress(fam, way, case, tmp):
    """The compress cell: max |onnxruntime(student.onnx) - OUT/bin/model|,
    or None when something failed (counted)."""
    what = f"{fam} {way} compress"
    out = os.path.join(case.dir, "compressed")
    r = compress(case.model, out, tmp, tokenizer_args(fam, tmp, case.dir, "compress"))
    if not check(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stderr[-600:]}"):
        return None
    with open(os.path.join(out, "report.json")) as f:
        check_report(what, json.load(f))
    student = os.path.join(out, "student.onnx")
    ok = check_student_inputs(what, student, case)
    ok = check_student_inputs(f"{what} supernet",
                              os.path.join(out, "supernet", "supernet.onnx"), case) and ok
    if not ok:
        return None
    check_family_ops(what, student, fam)
    if fam == "mpnet":
        inits = {i.name for i in onnx.load(student).graph.initializer}
        check("relative_bias" in inits,
              f"{what}: the student lost MPNet's relative position bias")
    want = ort_logits(student, case)
    got = run_program(what, os.path.join(out, "bin", "model"), case, case.names)
    diff = mu.max_diff(got, want)
    check(diff <= TOL, f"{what}: the program vs onnxruntime: max |diff| {diff:.3g}")
    if "token_type_ids" not in case.names:
        line = json.dumps({"input_ids": [0, 5, 2], "attention_mask": [1, 1, 1],
                           "token_type_ids": [0, 0, 0]}) + "\n"
        p = subprocess.run([os.path.join(out, "bin", "model")], input=line,
                           capture_output=True, text=True)
        check(p.returncode != 0 and "token_type_ids" in p.stderr,
              f"{what}: the program took token_type_ids: exit {p.returncode}")
    return diff


# ---- what is not done ---------------------------------------------------------

def check_pending(fam, tmp):
    """A family the trainer does not take yet: distill refuses it clearly
    (exit 1 or 2, a message naming what); a note when it works."""
    d = os.path.join(tmp, fam, "torch")
    case = export(fam, "torch", d, None)
    r = distilc("distill", case.model, "--task", "sst2", "--data",
                os.path.join(tmp, "glue"), "--vocab", os.path.join(tmp, "vocab.txt"),
                "--batch", "8", "--max-seq", "32", "--student", STUDENT,
                "--steps", "1", "--threads", "1", "-o", os.path.join(d, "student.onnx"))
    if r.returncode == 0:
        print(f"note: pending family {fam} distils now: add it to FAMILIES")
        return "works"
    # the message's first line (a declined fusion's report may follow)
    msg = r.stderr.strip().splitlines()[0] if r.stderr.strip() else ""
    check(r.returncode in (1, 2) and msg.startswith("distilc: ") and len(msg) > 30,
          f"{fam}: unclear refusal (exit {r.returncode}): {r.stderr[-400:]}")
    print(f"pending: {fam}: {msg[:240]}")
    return "pending"


def check_small_heads(tmp):
    """compress refuses a teacher with heads of 8 dims, naming why."""
    d = os.path.join(tmp, "heads4")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        case = families.export("bert", d, heads=4)
    r = compress(case.model, os.path.join(d, "out"), tmp,
                 ["--vocab", os.path.join(tmp, "vocab.txt")])
    check(r.returncode == 2 and "heads have 8 dims" in r.stderr,
          f"4-head teacher: exit {r.returncode}: {r.stderr[-300:]}")


def check_pair_task(tmp):
    """STS-B pairs under BERT's vocab.txt (text B has token type 1) with a
    RoBERTa regression teacher, which has one type row: the types are
    dropped as the teacher drops them, and the student matches
    onnxruntime."""
    d = os.path.join(tmp, "roberta-reg")
    case = export("roberta-reg", "torch", d, None)
    out = os.path.join(d, "student.onnx")
    r = distilc("distill", case.model, "--task", "stsb", "--data",
                os.path.join(tmp, "glue"), "--vocab", os.path.join(tmp, "vocab.txt"),
                "--batch", "8", "--max-seq", "32", "--student", STUDENT,
                "--steps", str(STEPS), "--threads", "1", "-o", out)
    if check(r.returncode == 0, f"roberta-reg stsb distill: exit {r.returncode}: "
             f"{r.stderr[-400:]}") and check_student_inputs("roberta-reg", out, case):
        got, rr = mu.run_model(distilc, out, case.input_files,
                               os.path.join(d, "run"), "--backend", "onednn")
        diff = mu.max_diff(got[0] if got else None, ort_logits(out, case))
        check(diff <= TOL, f"roberta-reg stsb student: onnxruntime vs distilc run "
              f"max |diff| {diff:.3g}")


def check_tokenizer_options(tmp, teacher):
    """--vocab and --tokenizer together, or a tokenizer.json that is not
    there: exit 2 naming the option."""
    both = ["--vocab", os.path.join(tmp, "vocab.txt"),
            "--tokenizer", os.path.join(tmp, "tokenizer.json")]
    missing = ["--tokenizer", os.path.join(tmp, "none.json")]
    common = ["--task", "sst2", "--data", os.path.join(tmp, "glue")]
    for cmd, extra in (("compress", ["-o", os.path.join(tmp, "bad")]),
                       ("distill", ["--student", STUDENT, "-o",
                                    os.path.join(tmp, "bad.onnx")])):
        r = distilc(cmd, teacher, *common, *both, *extra)
        check(r.returncode == 2 and "not both" in r.stderr,
              f"{cmd} --vocab --tokenizer: exit {r.returncode}: {r.stderr[-300:]}")
        r = distilc(cmd, teacher, *common, *missing, *extra)
        check(r.returncode == 2 and "none.json" in r.stderr,
              f"{cmd} --tokenizer none.json: exit {r.returncode}: {r.stderr[-300:]}")


def main():
    global distilc
    distilc = mu.Distilc(mu.command_arg(__doc__.splitlines()[-4]))
    os.environ["OMP_NUM_THREADS"] = "1"  # ctest runs two tests at once
    cells = [(f, w) for f in FAMILIES for w in families.WAYS] if FULL else list(SUBSET)
    print(f"{'full matrix' if FULL else 'subset (DISTILC_FAMILIES_FULL=1 runs all)'}: "
          f"{len(cells)} of {len(FAMILIES) * len(families.WAYS)} family x export "
          f"way cells")
    table = {}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        tiny_glue(tmp)
        with open(os.path.join(tmp, "space.xml"), "w") as f:
            f.write(SPACE)
        unigram_tokenizer(tmp)
        for fam, way in cells:
            d = os.path.join(tmp, fam, way)
            # the ORT-optimised teacher is the torch export, optimised
            torch_model = os.path.join(tmp, fam, "torch", "model.onnx")
            case = export(fam, way, d, torch_model if os.path.exists(torch_model) else None)
            table[fam, way] = (run_distill(fam, way, case, tmp),
                               run_compress(fam, way, case, tmp))
        check_small_heads(tmp)
        check_pair_task(tmp)
        check_tokenizer_options(tmp, os.path.join(tmp, "heads4", "model.onnx"))
        pending = {fam: check_pending(fam, tmp) for fam in PENDING} if FULL else {}
    print(f"\n{'family':14s}{'way':9s}{'distill':>10s}{'compress':>10s}")
    for (fam, way), cols in table.items():
        print(f"{fam:14s}{way:9s}" + "".join(
            f"{'FAIL' if c is None else f'{c:.1e}':>10s}" for c in cols))
    for fam, state in pending.items():
        print(f"{fam:14s}{'torch':9s}{state:>10s}{state:>10s}")
    print(f"(distill: max |onnxruntime - distilc run| on the student; compress: "
          f"max |onnxruntime(student.onnx) - OUT/bin/model|; tolerance {TOL}; "
          f"{time.time() - t0:.0f} s)")
    return checks.finish("test_families_pipeline")


if __name__ == "__main__":
    sys.exit(main())
