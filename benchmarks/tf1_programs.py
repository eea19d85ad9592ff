"""The TF1 programs of fixtures/tf1_programs/ through TensorFlow's `tf_upgrade_v2` and through
kmigrate, in one run: how long each tool took over all of them, and how many of the outputs
then run and train on TensorFlow 2.21 (exit 0, finite loss that changes, self-checks pass).

    .venv/bin/python benchmarks/tf1_programs.py [--jobs 2] [--only NAME ...]

kmigrate runs as a user runs it (`python -m kmigrate FILES`, every KM rule; programs whose first
line says `# kmigrate: unsafe_fixes` with --unsafe-fixes), tf_upgrade_v2 as its documentation
says (`tf_upgrade_v2 --intree IN --outtree OUT`). Both get a copy of the programs. Prints one
line per program and the totals.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.rules.tf1.test_tf1_programs_run import PROGRAMS, run_program, trains  # noqa: E402


def kmigrate(folder: Path, names: list[str]) -> float:
    unsafe = [n for n in names if (folder / n).read_text().startswith("# kmigrate: unsafe_fixes")]
    safe = [n for n in names if n not in unsafe]
    start = time.perf_counter()
    for group, extra in ((safe, []), (unsafe, ["--unsafe-fixes"])):
        if group:
            subprocess.run([sys.executable, "-m", "kmigrate", "--no-cache", "-q", "-j", "1", *extra,
                            *[str(folder / n) for n in group]], cwd=folder, capture_output=True)
    return time.perf_counter() - start


def tf_upgrade_v2(folder: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tensorflow.tools.compatibility.tf_upgrade_v2_main",
                    "--intree", str(folder), "--outtree", str(out), "--reportfile", str(out.parent / "report.txt")],
                   capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    names = sorted(p.name for p in PROGRAMS.glob("*.py") if not args.only or p.name in args.only)
    work = Path(tempfile.mkdtemp())
    src, km, up = work / "src", work / "kmigrate", work / "upgraded"
    src.mkdir()
    for n in names:
        shutil.copy(PROGRAMS / n, src / n)
    shutil.copytree(src, km)
    t_up = tf_upgrade_v2(src, up)
    t_km = kmigrate(km, names)

    def run(job):
        tool, folder, name = job
        path = folder / name
        if not path.exists():
            return tool, name, {"returncode": None, "losses": [], "checks": [], "stderr": "no output"}
        run_dir = work / "runs" / tool / name.removesuffix(".py")
        run_dir.mkdir(parents=True)
        return tool, name, run_program(path.read_text(), run_dir, name)

    jobs = [(t, f, n) for n in names for t, f in (("original", src), ("tf_upgrade_v2", up), ("kmigrate", km))]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = {(t, n): r for t, n, r in pool.map(run, jobs)}
    print(f"{'program':<26} {'original':>9} {'tf_upgrade_v2':>14} {'kmigrate':>9}")
    for n in names:
        cells = ["trains" if trains(results[(t, n)]) else "fails" for t in ("original", "tf_upgrade_v2", "kmigrate")]
        print(f"{n:<26} {cells[0]:>9} {cells[1]:>14} {cells[2]:>9}")
    for tool, secs in (("original", None), ("tf_upgrade_v2", t_up), ("kmigrate", t_km)):
        ok = sum(trains(results[(tool, n)]) for n in names)
        took = f"; tool took {secs:.2f} s for {len(names)} files" if secs is not None else ""
        print(f"{tool}: {ok}/{len(names)} run and train on TensorFlow 2.21{took}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
