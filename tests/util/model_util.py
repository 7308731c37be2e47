"""model_util.py - the small helpers the Python model tests share (test
oracles only; Python is never a step of distilc itself): skip when a module
is missing, count checks, run distilc, export a BERT classifier with
bert_export.py and read back its inputs and torch's logits, run ONNX
Runtime, and compare arrays by their largest absolute difference.

    import model_util as mu
    np, onnx = mu.require("numpy", "onnx")   # "skipped: ..." and exit 77
    t = mu.Checks()
    distilc = mu.Distilc(sys.argv[1])
    case = mu.export_bert(os.path.join(tmp, "m"), "--opset", "17")
    outs, r = mu.run_model(distilc, case.model, case.inputs, tmp, "m")
    t.check(mu.max_diff(outs[0], case.want) <= 1e-4, "run vs torch")
    sys.exit(t.finish())                      # "N passed, N failed"

Nothing here imports numpy, onnx or onnxruntime at module level: a test
states what it needs with require() first, so a missing module is a skip,
not a crash.
"""
import importlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BERT_EXPORT = os.path.join(HERE, "bert_export.py")


def require(*names, message=None):
    """Imports the named modules (dotted names for submodules) and returns
    them in order. When one is missing: prints "skipped: ..." (message, or
    which module and for which Python; "{name}" in message is replaced by
    the missing module's name) and exits 77, which ctest reads as a skip."""
    mods = []
    for name in names:
        try:
            mods.append(importlib.import_module(name))
        except ImportError as e:
            missing = e.name or name
            text = (message.replace("{name}", missing) if message else
                    f"{missing} is not installed for {sys.executable}")
            skip(text)
    return mods[0] if len(mods) == 1 else tuple(mods)


def import_transformers():
    """Imports Hugging Face transformers (4.40.x, scripts/install-deps.sh)
    and returns it; skips the test when it is missing. transformers 4.40
    checks at import that tokenizers is < 0.20, while the tokenizer oracles
    need the newer release install-deps pins; the families' models do not
    use tokenizers, so that check is replaced by a no-op before the import."""
    import types
    name = "transformers.dependency_versions_check"
    if "transformers" not in sys.modules and name not in sys.modules:
        stub = types.ModuleType(name)
        stub.dep_version_check = lambda pkg, hint=None: None
        sys.modules[name] = stub
    return require("transformers")


# The exit status ctest reports as skipped (SKIP_RETURN_CODE in
# tests/CMakeLists.txt; the convention of tests/util/testutil.h).
SKIP_STATUS = 77


def skip(text):
    """Prints "skipped: TEXT" and exits 77: the whole test cannot run here."""
    print(f"skipped: {text}")
    sys.exit(SKIP_STATUS)


def part(name):
    """Whether this run includes the part NAME: DISTILC_TEST_PART unset runs
    every part, "NAME" only that part, "-NAME" all but it (testutil.h)."""
    sel = os.environ.get("DISTILC_TEST_PART", "")
    if not sel:
        return True
    if sel.startswith("-"):
        return sel[1:] != name
    return sel == name


def only_part():
    """True when the run is for one part only (then a skip of it is 77)."""
    sel = os.environ.get("DISTILC_TEST_PART", "")
    return bool(sel) and not sel.startswith("-")


def machine(distilc_bin):
    """`distilc system --json`: what this CPU runs natively (bf16, int8 with
    VNNI, the level after DISTILC_MAX_ISA)."""
    r = subprocess.run([distilc_bin, "system", "--json"], capture_output=True,
                       text=True, check=True)
    return json.loads(r.stdout)


def command_arg(usage, program="distilc"):
    """The program the test drives: its one argument, else what ctest sets
    for every test (tests/CMakeLists.txt): $DISTILC_BIN for distilc, and
    $DISTILC_BUILD_DIR/tests/PROGRAM for a C test program (test_metrics...).
    Without either, prints usage and exits 2."""
    if len(sys.argv) == 2:
        return sys.argv[1]
    if len(sys.argv) == 1:
        if program == "distilc" and os.environ.get("DISTILC_BIN"):
            return os.environ["DISTILC_BIN"]
        if program != "distilc" and os.environ.get("DISTILC_BUILD_DIR"):
            return os.path.join(os.environ["DISTILC_BUILD_DIR"], "tests", program)
    print(usage)
    sys.exit(2)


def shared_dir():
    """$DISTILC_SHARED, else the shared folder beside the checkout."""
    return os.environ.get("DISTILC_SHARED") or os.path.join(HERE, "..", "..", "..", "shared")


class Checks:
    """Counts checks; a failed one prints "FAIL: what" (the first
    max_printed of them) and the run goes on."""

    def __init__(self, max_printed=None):
        self.passed = 0
        self.failed = 0
        self.max_printed = max_printed

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            if self.max_printed is None or self.failed <= self.max_printed:
                print(f"FAIL: {what}", flush=True)
        return cond

    def close(self, got, want, tol, what):
        """Checks max_diff(got, want) <= tol and prints "what: max |diff|
        D ok" (or FAIL) either way; returns whether it held."""
        diff = max_diff(got, want)
        ok = self.check(diff <= tol, f"{what}: max |diff| {diff:.3g} > {tol}")
        print(f"{what}: max |diff| {diff:.3g} {'ok' if ok else 'FAIL'}")
        return ok

    def finish(self, name=None):
        """Prints "[name: ]N passed, N failed"; returns the exit status."""
        prefix = f"{name}: " if name else ""
        print(f"{prefix}{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


class Distilc:
    """The distilc command: distilc("run", model, ...) returns the
    subprocess.CompletedProcess with text stdout and stderr."""

    def __init__(self, path):
        self.path = path

    def __call__(self, *args, **kw):
        return subprocess.run([self.path, *args], capture_output=True, text=True, **kw)


def read_pb(path):
    """A serialised onnx TensorProto as a numpy array."""
    from onnx import numpy_helper, TensorProto
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t).copy()


def write_pb(path, array, name):
    import onnx
    from onnx import numpy_helper
    onnx.save_tensor(numpy_helper.from_array(array, name), path)


def max_diff(a, b):
    """Largest |a - b| in float64; inf when either is None or the shapes
    differ, 0 for two empty arrays."""
    import numpy as np
    if a is None or b is None:
        return float("inf")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


class BertCase:
    """What bert_export.py wrote to dir: model.onnx, the input names (in
    the model's order), their files and arrays, and torch's logits."""

    def __init__(self, d):
        self.dir = d
        self.model = os.path.join(d, "model.onnx")
        with open(os.path.join(d, "config.json")) as f:
            self.config = json.load(f)
        ds = os.path.join(d, "test_data_set_0")
        self.names = list(self.config["inputs"])
        self.input_files = {n: os.path.join(ds, f"input_{k}.pb")
                            for k, n in enumerate(self.names)}
        self.inputs = [(n, read_pb(self.input_files[n])) for n in self.names]
        self.want = read_pb(os.path.join(ds, "output_0.pb"))


def case_flags(cfg):
    """A case's name and bert_export.py flags from a dict with "opset",
    "tt" (token_type_ids, default True) and "padded" (default False):
    ("opset14-no-tt-padded", ["--opset", "14", "--no-token-types",
    "--padded"])."""
    tt, padded = cfg.get("tt", True), cfg.get("padded", False)
    name = "opset{}{}{}".format(cfg["opset"], "" if tt else "-no-tt",
                                "-padded" if padded else "")
    args = ["--opset", str(cfg["opset"])]
    args += [] if tt else ["--no-token-types"]
    args += ["--padded"] if padded else []
    return name, args


def export_bert_raw(out, *args):
    """Runs bert_export.py --out OUT ARGS...; the CompletedProcess."""
    return subprocess.run([sys.executable, BERT_EXPORT, "--out", out, *args],
                          capture_output=True, text=True)


def export_bert(out, *args, checks=None, name=None):
    """Exports a classifier to OUT and returns its BertCase. A failed export
    raises, or with checks given counts a failure (naming name) and returns
    None."""
    r = export_bert_raw(out, *map(str, args))
    if checks is not None:
        if not checks.check(r.returncode == 0,
                            f"{name or out}: bert_export.py failed: {r.stderr[-500:]}"):
            return None
    elif r.returncode != 0:
        raise RuntimeError(f"bert_export.py {' '.join(map(str, args))}: {r.stderr[-500:]}")
    return BertCase(out)


def run_model(distilc, model, inputs, outdir, *extra, workdir=None):
    """`distilc run MODEL --output-dir OUTDIR EXTRA... --input name=file...`.
    inputs: a dict name -> .pb file, or (name, array) pairs, which are
    written to workdir (default OUTDIR's parent) first. Returns (the list of
    outputs read back, empty on failure; the CompletedProcess)."""
    args = ["run", model, "--output-dir", outdir, *extra]
    if isinstance(inputs, dict):
        files = list(inputs.items())
    else:
        workdir = workdir or os.path.dirname(os.path.abspath(outdir))
        tag = os.path.basename(outdir)
        files = []
        for name, arr in inputs:
            p = os.path.join(workdir, f"in_{tag}_{name}.pb")
            write_pb(p, arr, name)
            files.append((name, p))
    for name, path in files:
        args += ["--input", f"{name}={path}"]
    r = distilc(*args)
    outs = []
    while r.returncode == 0:
        p = os.path.join(outdir, f"output_{len(outs)}.pb")
        if not os.path.exists(p):
            break
        outs.append(read_pb(p))
    return outs, r


def ort_run(model, feeds, outputs=None):
    """ONNX Runtime on the CPU: the list of outputs (all, or those named)."""
    import onnxruntime as ort
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return sess.run(outputs, dict(feeds))


def ort_session(model):
    import onnxruntime as ort
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])
