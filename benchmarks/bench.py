"""Speed of kmigrate on real trees, against the floors and against TensorFlow's upgrade script.

    python benchmarks/bench.py            # everything (about 15-25 minutes on 2 cores)
    python benchmarks/bench.py --quick    # 3 small Keras-era packages + the modern Keras tree, no tf_upgrade_v2
    python benchmarks/bench.py --no-tf    # skip tf_upgrade_v2
    python benchmarks/bench.py --repeat 3 # best of 3 interleaved rounds per measure (noisy machines)
    python benchmarks/bench.py --startup  # only the start-up figures
    python benchmarks/bench.py --per-change  # only the per-change figure (1,000-line modern Keras file)
    python benchmarks/bench.py --trees keras-era,modern-keras --no-tf --repeat 2  # the two targets
    python benchmarks/bench.py --rev 679d214 ...  # measure another commit (default: HEAD)

Trees (downloaded once with pip, cached under .cache/, copied to a temporary folder so the
repository's .gitignore does not hide them):
  keras-era     the packages of ../shared/CORPORA.md (tests/corpora.py): Keras 1/2 and TF1 code
  modern-keras  today's Keras code from PyPI sdists: keras-hub 0.32.0 and keras-cv 0.9.0 (the
                sdists tests/rules/lint/test_training_bugs_quiet_on_corpora.py reviews; nearly
                every file imports Keras, most define Layer/Model subclasses)
  pip           pip 24.3.1, a big modern package that never mentions Keras

For each tree, on the same files, in one run: reading the bytes, `ast.parse`, bare
`libcst.parse_module` (1 and 2 processes), kmigrate `--check --no-cache` with -j1 and -j2
(cold), kmigrate `--check` from a filled cache, and `tf_upgrade_v2 --intree` (whose time
includes importing TensorFlow, shown apart). kmigrate is run as the real command in a
subprocess, start-up included. Figures are wall seconds, files/s, ratios, and peak RSS of the
main process (GNU time's %M; with -j2 each worker is a separate process of similar size). The
last lines print the cold `-j1` ratio to the LibCST parse of every tree measured (target: at
most 1.5x), from the same run. Per tree, benchmarks/phases.py also shows where the engine's
time goes, and the floor no rule speed-up removes (parse, re-parse of fixed code, compile checks).
Also: start-up (`kmigrate --version`, one small file cold and cached), best of 5; peak memory
for 1 and 4 copies of the same small tree (flat: results are streamed, not held); and the
per-change figure: what an editor waits for after each edit of a 1,000-line modern Keras file
(keras-hub's video_prism_layers.py, 996 lines), `kmigrate.engine.fix_text` with every rule in
the check configuration (no unsafe fixes), one line edited before each run so no cache of a
tree or of its facts can answer (target: at most 150 ms).
"""
from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kmigrate.files import iter_files  # noqa: E402
from kmigrate.source import Source, SourceError  # noqa: E402
from tests.corpora import ALL, _fetch  # noqa: E402

NO_KERAS = ("pip", "24.3.1")
# Modern Keras code: (name, version, "sdist"); fetched by the lint false-positive test's helper.
MODERN_KERAS = [("keras-hub", "0.32.0"), ("keras-cv", "0.9.0")]
# The per-change file: 996 lines of keras-hub, Layer subclasses with build()/call().
PER_CHANGE_FILE = ("keras-hub", "keras_hub-0.32.0/keras_hub/src/models/video_prism/video_prism_layers.py")
BENCH_CACHE = ROOT / ".cache" / "bench"


def fetch_modern_keras(name: str) -> Path:
    """keras-hub / keras-cv sdists, unpacked once under .cache/corpora/modern/ (with pip)."""
    from tests.rules.lint.test_training_bugs_quiet_on_corpora import modern_corpus

    return modern_corpus(name)


def fetch_modern() -> Path:
    name, version = NO_KERAS
    target = BENCH_CACHE / f"{name}-{version}"
    if not (target / ".unpacked").exists():
        BENCH_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "--no-build-isolation", f"{name}=={version}", "-d", str(BENCH_CACHE), "-q"], check=True)
        import tarfile

        archive = next(BENCH_CACHE.glob(f"{name}-{version}.tar.gz"))
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tf:
            tf.extractall(target, filter="data")
        (target / ".unpacked").write_text("ok\n")
    return target


def make_tree(work: Path, label: str, sources: list[Path]) -> Path:
    tree = work / label
    for src in sources:
        shutil.copytree(src, tree / src.name, ignore=shutil.ignore_patterns(".unpacked"))
    (tree / "pyproject.toml").write_text(f'[tool.kmigrate]\ncache-dir = "{work / ("cache-" + label)}"\n')
    return tree


# ------------------------------------------------------------------------------ floors


def texts(files: list[str]) -> list[tuple[str, str]]:
    out = []
    for f in files:
        if not f.endswith(".py"):
            continue
        try:
            out.append((f, Source.from_bytes(Path(f).read_bytes()).text))
        except SourceError:
            pass
    return out


def _ast_ok(item) -> int:
    try:
        ast.parse(item[1], item[0])
        return 1
    except (SyntaxError, ValueError, RecursionError):
        return 0


def _cst_ok(item) -> int:
    import libcst

    try:
        libcst.parse_module(item[1])
        return 1
    except Exception:  # Python 2 files, deep nesting
        return 0


def floor_read(files):
    t = time.perf_counter()
    n = sum(len(Path(f).read_bytes()) for f in files)
    return time.perf_counter() - t, n


def floor_parse(fn, items, jobs=1):
    t = time.perf_counter()
    if jobs == 1:
        ok = sum(fn(i) for i in items)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            ok = sum(pool.map(fn, items, chunksize=4))
    return time.perf_counter() - t, ok


# ------------------------------------------------------------------------------ commands


WORK: list[Path] = []  # the temporary folder: commands run there, away from the repository's kmigrate/


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB (largest of the process and its reaped children), exit code."""
    cwd = cwd or (WORK[0] if WORK else None)
    # Peak RSS comes from GNU time's last stderr line: wait4 here would report this benchmark's
    # own (large, after the in-process LibCST floors) RSS, which a forked child inherits.
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", *cmd], cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=err, stdin=subprocess.DEVNULL)
        proc.wait()
        wall = time.perf_counter() - t
        err.seek(0)
        text = err.read().decode(errors="replace")
        lines = text.strip().splitlines()
        peak_kb = int(lines[-1]) if lines and lines[-1].strip().isdigit() else 0
        if "tf_upgrade" not in cmd[0] and (proc.returncode not in (0, 1, 2) or "Traceback" in text):
            raise RuntimeError(f"{cmd} failed: {text[-2000:]}")
    return wall, peak_kb / 1024, proc.returncode


KMIGRATE = [sys.executable, "-m", "kmigrate"]  # replaced by snapshot() with the committed code
REV = ["HEAD"]  # the commit snapshot() measures (--rev)


def snapshot(work: Path) -> None:
    """Run kmigrate from a copy of the committed code (git HEAD), not the live work tree.

    The cache key includes a fingerprint of kmigrate's source files; in a work tree that is
    being edited, every edit is (rightly) a cache invalidation and "cached" runs would be cold.
    `python -S` keeps the editable install's finder out; site-packages come via PYTHONPATH.
    """
    import sysconfig

    snap = work / "code"
    snap.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", REV[0], "kmigrate", "rules"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(snap)], input=archive, check=True)
    (snap / "rules").rename(snap / "kmigrate" / "rules")
    # Bytecode, as an install has it (pip compiles it); without it every run would compile the
    # sources again wherever PYTHONDONTWRITEBYTECODE is set.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(snap)], check=True)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(snap), sysconfig.get_paths()["purelib"]])
    KMIGRATE[:] = [sys.executable, "-S", "-m", "kmigrate"]


def kmigrate(tree: Path, jobs: int, extra=()) -> list[str]:
    return [*KMIGRATE, "--check", "-q", "-j", str(jobs), *extra, str(tree)]


def kmigrate_cold(tree: Path, jobs: int) -> list[str]:
    return kmigrate(tree, jobs, ["--no-cache"])


def best_of(n, cmd, cwd=None) -> float:
    return min(timed(cmd, cwd)[0] for _ in range(n))


# ------------------------------------------------------------------------------ report


def row(label, seconds, nfiles, extra=""):
    rate = f"{nfiles / seconds:8.0f} files/s" if seconds > 0 else ""
    print(f"  {label:<34} {seconds:8.2f} s {rate}  {extra}")


def bench_tree(label: str, tree: Path, work: Path, run_tf: bool, repeat: int = 1) -> dict:
    files = list(iter_files([str(tree)]))
    items = texts(files)
    size = sum(len(t) for _, t in items)
    lines = sum(t.count("\n") for _, t in items)
    print(f"\n== {label}: {len(files)} files, {size / 1e6:.1f} MB, {lines:,} lines ({tree})")
    f: dict[str, float] = {}
    mem: dict[str, float] = {}

    def keep(key, seconds, peak=None):  # the best of the rounds (a shared machine only slows down)
        if key not in f or seconds < f[key]:
            f[key] = seconds
            if peak is not None:
                mem[key] = peak

    cache = work / f"cache-{label}"
    for _ in range(repeat):  # rounds interleave every measure, so a slow spell hits them alike
        keep("read", floor_read(files)[0])
        seconds, ast_ok = floor_parse(_ast_ok, items)
        keep("ast", seconds)
        seconds, cst_ok = floor_parse(_cst_ok, items)
        keep("cst1", seconds)
        keep("cst2", floor_parse(_cst_ok, items, 2)[0])
        for jobs in (1, 2):
            keep(f"cold{jobs}", *timed(kmigrate_cold(tree, jobs))[:2])
        shutil.rmtree(cache, ignore_errors=True)
        timed(kmigrate(tree, 2))  # fills the cache
        keep("warm2", *timed(kmigrate(tree, 2))[:2])
        keep("warm1", *timed(kmigrate(tree, 1))[:2])
    row("read the files", f["read"], len(files))
    row("ast.parse", f["ast"], len(items), f"({ast_ok} parse)")
    row("libcst.parse_module, 1 process", f["cst1"], len(items), f"({cst_ok} parse)")
    row("libcst.parse_module, 2 processes", f["cst2"], len(items))
    for key, name in (("cold1", "kmigrate -j1 --no-cache"), ("cold2", "kmigrate -j2 --no-cache"),
                      ("warm1", "kmigrate -j1, cached"), ("warm2", "kmigrate -j2, cached")):
        row(name, f[key], len(files), f"peak {mem[key]:6.0f} MB")
    if run_tf:
        out = work / f"tf-out-{label}"
        shutil.rmtree(out, ignore_errors=True)
        tf_import = min(timed([sys.executable, "-c", "import tensorflow"])[0] for _ in range(2))
        f["tf"], mem["tf"], _ = timed(["tf_upgrade_v2", "--intree", str(tree), "--outtree", str(out),
                                       "--reportfile", str(work / f"tf-report-{label}.txt")])
        f["tf_import"] = tf_import
        row("tf_upgrade_v2 --intree", f["tf"], len(files),
            f"peak {mem['tf']:6.0f} MB (importing TensorFlow alone: {tf_import:.1f} s)")
    f["files"], f["size"] = len(files), size
    print("  where the time goes (benchmarks/phases.py, in process, the committed code):")
    phases = subprocess.run([*KMIGRATE[:2], str(ROOT / "benchmarks" / "phases.py"), str(tree)],
                            cwd=WORK[0] if WORK else None, capture_output=True, text=True)
    print(phases.stdout.rstrip() or f"  (phases.py failed: {phases.stderr[-500:]})")
    print("  ratios:")
    print(f"    kmigrate -j1 cold / libcst parse (1 proc)   {f['cold1'] / f['cst1']:6.2f}x")
    print(f"    kmigrate -j2 cold / libcst parse (1 proc)   {f['cold2'] / f['cst1']:6.2f}x")
    print(f"    kmigrate -j1 cold / ast.parse               {f['cold1'] / f['ast']:6.2f}x")
    print(f"    kmigrate -j1 cold / reading the files       {f['cold1'] / max(f['read'], 1e-3):6.1f}x")
    print(f"    speed-up -j1 -> -j2 (kmigrate, cold)        {f['cold1'] / f['cold2']:6.2f}x"
          f"   (libcst parse alone: {f['cst1'] / f['cst2']:.2f}x)")
    print(f"    cached / cold (-j2)                         {f['warm2'] / f['cold2']:6.3f}x")
    if run_tf:
        print(f"    tf_upgrade_v2 / kmigrate -j1 cold           {f['tf'] / f['cold1']:6.2f}x"
              f"   (without TF's import: {(f['tf'] - f['tf_import']) / f['cold1']:.2f}x)")
    return f


def memory_flat(work: Path, sources: list[Path]) -> None:
    """Peak memory with 1 and 4 copies of the same files: flat when results are streamed."""
    print("\n== memory over the number of files (-j1, cold; keras-vis, keras-self-attention, textgenrnn)")
    peaks = {}
    for copies in (1, 4):
        tree = work / f"mem{copies}"
        for c in range(copies):
            for src in sources:
                shutil.copytree(src, tree / f"copy{c}" / src.name, ignore=shutil.ignore_patterns(".unpacked"))
        n = sum(1 for _ in iter_files([str(tree)]))
        wall, peaks[copies], _ = timed([*KMIGRATE, "--check", "-q", "-j", "1", "--no-cache", str(tree)])
        row(f"{copies} cop{'y' if copies == 1 else 'ies'} ({n} files)", wall, n, f"peak {peaks[copies]:6.0f} MB")
    print(f"  peak memory, 4 copies / 1 copy: {peaks[4] / peaks[1]:.2f}x")


def startup(work: Path) -> None:
    small = work / "startup"
    small.mkdir()
    (small / "pyproject.toml").write_text(f'[tool.kmigrate]\ncache-dir = "{work / "cache-startup"}"\n')
    (small / "model.py").write_text("import keras\nfrom keras.layers import Dense\nm = keras.Sequential([Dense(1)])\n")
    (small / "util.py").write_text("import os\n\ndef home():\n    return os.path.expanduser('~')\n")
    exe = KMIGRATE
    print("\n== start-up (best of 5, wall, process start included)")
    row("kmigrate --version", best_of(5, exe + ["--version"]), 1)
    row("one small Keras file, --no-cache", best_of(5, exe + ["--check", "--no-cache", "model.py"], small), 1)
    row("one small non-Keras file, --no-cache", best_of(5, exe + ["--check", "--no-cache", "util.py"], small), 1)
    timed(exe + ["--check", "model.py"], small)
    row("one small Keras file, cached", best_of(5, exe + ["--check", "model.py"], small), 1)
    row("python -c pass (the floor)", best_of(5, [sys.executable, "-c", "pass"]), 1)
    row("python -c 'import libcst'", best_of(3, [sys.executable, "-c", "import libcst"]), 1)


PER_CHANGE = r"""
import statistics, sys, time
sys.setrecursionlimit(8000)
from kmigrate.engine import Options, fix_text
from kmigrate.rule import select_rules
import libcst
path, rounds = sys.argv[1], int(sys.argv[2])
text = open(path, encoding="utf-8").read()
options = Options(rules=tuple(select_rules(["KM"], [])))  # every rule, no unsafe fixes: --check
fix_text(text, path, options)  # imports, rule classes, caches of LibCST's own
from kmigrate.collector import tune
tune()  # as the language server does once warm (kmigrate/server/analysis.py warm_up)
lines = text.split("\n")


def edit(i):
    # one comment line added inside a method body per round, as an editor sends a keystroke
    for k in range(len(lines) // 2 + 7 * i, len(lines)):
        line = lines[k]
        if line.startswith("        ") and line.strip() and not lines[k - 1].rstrip().endswith("\\"):
            indent = line[:len(line) - len(line.lstrip())]
            edited = "\n".join(lines[:k] + [indent + f"# edit {i}"] + lines[k:])
            try:
                compile(edited, path, "exec", dont_inherit=True)
                return edited
            except SyntaxError:
                continue
    raise SystemExit("no line to edit")


runs, parses = [], []
for i in range(rounds):
    edited = edit(i)
    t = time.perf_counter()
    result = fix_text(edited, path, options)
    runs.append(time.perf_counter() - t)
    t = time.perf_counter()
    libcst.parse_module(edited)
    parses.append(time.perf_counter() - t)
print(len(lines), min(runs), statistics.median(runs), min(parses), len(result.findings))
"""


def per_change(rounds: int = 15) -> dict:
    """fix_text on the 1,000-line modern Keras file after a one-line edit, in a fresh process
    running the snapshot of the code (best and median of `rounds` edits)."""
    name, rel = PER_CHANGE_FILE
    path = fetch_modern_keras(name) / rel
    out = subprocess.run([*KMIGRATE[:-2], "-c", PER_CHANGE, str(path), str(rounds)], capture_output=True,
                         text=True, check=True, cwd=WORK[0] if WORK else None).stdout.split()
    lines, best, median, parse, findings = int(out[0]), float(out[1]), float(out[2]), float(out[3]), int(out[4])
    print(f"\n== per change: {path.name} ({lines:,} lines, {findings} findings), fix_text in the check "
          f"configuration, every rule, one line edited per run (best / median of {rounds})")
    print(f"  fix_text                              {best * 1000:6.0f} ms / {median * 1000:.0f} ms   (target 150 ms)")
    print(f"  libcst.parse_module of the same text  {parse * 1000:6.0f} ms   (fix_text / parse: {best / parse:.2f}x)")
    return {"best": best, "median": median, "parse": parse}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 Keras-era packages, no tf_upgrade_v2")
    ap.add_argument("--no-tf", action="store_true", help="skip tf_upgrade_v2")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of the tree measures; the best of each is shown")
    ap.add_argument("--startup", action="store_true", help="only the start-up figures")
    ap.add_argument("--per-change", action="store_true", help="only the per-change figure")
    ap.add_argument("--trees", default="keras-era,modern-keras,pip",
                    help="comma-separated: keras-era, modern-keras, pip (default: all three)")
    ap.add_argument("--rev", default="HEAD", help="the commit to measure (default: HEAD)")
    args = ap.parse_args()
    REV[0] = args.rev
    trees = [t.strip() for t in args.trees.split(",") if t.strip()]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    names = ["keras-vis", "keras-self-attention", "textgenrnn"] if args.quick else sorted(ALL)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="kmbench-") as tmp:
        work = Path(tmp)
        WORK.append(work)
        snapshot(work)
        print(f"code: {REV[0]} ({subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', REV[0]], capture_output=True, text=True).stdout.strip()})")
        if args.per_change:
            per_change()
            return
        sources = {"keras-era": lambda: [_fetch(n, ALL[n]) for n in names],
                   "modern-keras": lambda: [fetch_modern_keras(n) for n, _ in MODERN_KERAS],
                   "pip": lambda: [fetch_modern()]}
        made = {label: make_tree(work, label, sources[label]()) for label in trees}
        startup(work)
        if args.startup:
            return
        memory_flat(work, [_fetch(n, ALL[n]) for n in ("keras-vis", "keras-self-attention", "textgenrnn")])
        change = per_change()
        run_tf = not (args.quick or args.no_tf)
        results = {label: bench_tree(label, tree, work, run_tf, args.repeat) for label, tree in made.items()}
    print("\n== targets (this run)")
    for label, f in results.items():
        print(f"  {label:<13} kmigrate --check --no-cache -j1 / libcst.parse_module (1 process): "
              f"{f['cold1'] / f['cst1']:5.2f}x  ({f['files']} files, {f['size'] / 1e6:.1f} MB; target at most 1.5x)")
    print(f"  per change    fix_text on a 1,000-line modern Keras file: {change['best'] * 1000:.0f} ms "
          f"(median {change['median'] * 1000:.0f} ms; target at most 150 ms)")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
