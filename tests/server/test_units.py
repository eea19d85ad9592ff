"""The server's parts without a client: positions and minimal edits, the cancellable analysis
thread, the fast path against the full run, the start-up code cache, and the CLI's start-up
never importing pygls."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from kmigrate.server import analysis as A
from kmigrate.server.text import Lines, apply_edits, minimal_edits, units
from kmigrate.server.worker import StaleRun, Worker

from .conftest import KERAS2


# ---------------------------------------------------------------------- positions and edits


def test_positions_count_lsp_lines_and_code_units():
    text = "a\u00e9\U0001F600b\r\nx\ry\fz\nlast"
    lines = Lines(text)
    assert len(lines.starts) == 4  # \r\n, \r and \n end lines; \f does not (str.splitlines would)
    assert lines.line_text(2) == "y\fz"
    off = text.index("b")
    assert lines.position(off, "utf-16") == (0, 4)  # a, é, 😀 (2 units)
    assert lines.position(off, "utf-8") == (0, 7)
    assert lines.position(off, "utf-32") == (0, 3)
    for enc in ("utf-16", "utf-8", "utf-32"):
        assert lines.offset(*lines.position(off, enc), enc) == off
    assert lines.offset(0, 999) == text.index("\r")  # past the line's end: clamped to it
    assert lines.offset(99, 0) == len(text)
    assert units("\U0001F600") == 2 and units("\U0001F600", "utf-8") == 4


@pytest.mark.parametrize("old,new", [
    ("a = 1\nb = lr\nc = 3\n", "a = 1\nb = learning_rate\nc = 3\n"),
    ("import keras\nx = 1\n", "from tensorflow import keras\nx = 1\n"),
    ("x\r\ny\rz", "x\r\nY\rz\n"),
    ("one\ntwo\nthree\n", "zero\none\nthree\nfour\n"),
    ("", "new\n"),
    ("gone\n", ""),
])
def test_minimal_edits_rebuild_the_new_text(old, new):
    edits = minimal_edits(old, new)
    assert apply_edits(old, edits) == new


def test_minimal_edits_are_small():
    old = "".join(f"line {i}\n" for i in range(1000)) + "opt = SGD(lr=0.1)\n" + "tail\n" * 1000
    new = old.replace("SGD(lr=", "SGD(learning_rate=")
    (edit,) = minimal_edits(old, new)
    assert len(edit.text) < 15 and edit.end - edit.start < 3 and edit.first_line == edit.last_line == 1001


def test_one_edit_per_changed_line_when_lines_correspond():
    old = "import keras\nimport keras.backend as K\nfrom keras.layers import Dense\n"
    new = "from tensorflow import keras\nimport tensorflow.keras.backend as K\nfrom tensorflow.keras.layers import Dense\n"
    assert [(e.first_line, e.last_line) for e in minimal_edits(old, new)] == [(1, 1), (2, 2), (3, 3)]


# ---------------------------------------------------------------------- the analysis thread


def test_a_newer_change_interrupts_the_running_job():
    worker = Worker()
    started = threading.Event()

    def long_run():
        started.set()
        total = 0
        for i in range(10**9):  # seconds of pure Python, as the engine on a long file
            total += i
        return total

    stale = worker.submit("doc", long_run)
    queued = worker.submit("doc", lambda: "queued")
    other = worker.submit("other", lambda: "other document")
    assert started.wait(10)
    t0 = time.monotonic()
    worker.cancel("doc")
    with pytest.raises((StaleRun, Exception)) as info:
        stale.result(timeout=10)
    assert time.monotonic() - t0 < 2 and not isinstance(info.value, TimeoutError)
    assert isinstance(info.value, StaleRun)
    assert queued.cancelled()
    assert other.result(timeout=10) == "other document"  # other documents' work goes on
    assert worker.interrupted == 1
    assert worker.submit("doc", lambda: 42).result(timeout=10) == 42  # and the thread serves on
    assert worker.submit("doc", lambda: 1 / 0).exception(timeout=10).__class__ is ZeroDivisionError
    worker.close()


def test_cancelling_a_finished_or_unknown_job_is_harmless():
    worker = Worker()
    assert worker.submit("a", lambda: 1).result(timeout=10) == 1
    worker.cancel("a")
    worker.cancel("never")
    assert worker.submit("a", lambda: 2).result(timeout=10) == 2
    assert worker.interrupted == 0
    worker.close()


# ---------------------------------------------------------------------- the fast path


def _snap(text, path):
    return A.Snapshot(path.as_uri(), str(path), A.PYTHON, [A.Part(path.as_uri(), text)])


def _module(n):
    body = "".join(f'''

def build_{i}(x, y):
    model = Sequential()
    model.add(Dense(8, input_dim=4))
    model.compile(loss="mse", optimizer=SGD(lr=0.1))
    model.fit(x, y, nb_epoch={i + 1})
    return model
''' for i in range(n))
    return "import keras\nfrom keras.models import Sequential\nfrom keras.layers import Dense\n" \
           "from keras.optimizers import SGD\n" + body


def test_fast_path_runs_the_changed_block_and_agrees_with_the_full_run(tmp_path):
    settings = A.Settings()
    path = tmp_path / "m.py"
    old = _module(12)
    before = A.run(_snap(old, path), settings)
    edits = [old.replace("nb_epoch=7)", "nb_epoch=7, validation_split=0.1, nb_val_samples=3)"),  # one block
             old.replace("    return model\n", "    return model\n\n\nx = 1\n", 1),  # a new block
             old.replace("def build_3(x, y):\n", "def build_3(x, y):\n    model = None\n\n\n"),  # one split in two
             old + "\nmodel = Sequential()\nmodel.add(Dense(2, input_dim=3))\n"]  # at the end
    for new in edits:
        check_fast_path(old, before, new, path, settings)


def check_fast_path(old, before, new, path, settings):
    fast = A.incremental(_snap(new, path), (old, before), settings)
    full = A.run(_snap(new, path), settings)
    uri = path.as_uri()
    key = lambda fs: sorted((f.line, f.column, f.end_line, f.end_column, f.code, f.message) for f in fs)  # noqa: E731
    assert fast is not None and fast.provisional
    assert key(fast.findings[uri]) == key(full.findings[uri])


def test_fast_path_gives_way_to_the_full_run(tmp_path):
    settings = A.Settings()
    path = tmp_path / "m.py"
    old = _module(6)
    before = A.run(_snap(old, path), settings)
    for new in (old.replace("import keras\n", "import keras as K2\n"),  # the imports changed
                old.replace("def build_1(x, y):", "def build_1(x, y:"),  # a syntax error
                old.replace("lr=", "learning_rate=")):  # every block changed
        assert A.incremental(_snap(new, path), (old, before), settings) is None


def test_blocks_cover_every_line_after_the_imports():
    text = '"""doc"""\nimport os\n\n# a comment\n@decorator\ndef f():\n    pass\nx = 1\ny = 2\nclass C:\n    pass\n'
    header, blocks = A.blocks(text)
    assert header == 2
    assert [(b.start, b.end) for b in blocks] == [(3, 7), (8, 9), (10, 11)]
    assert "".join(b.text for b in blocks) == "".join(text.splitlines(keepends=True)[2:])


def test_an_engine_crash_is_one_diagnostic(monkeypatch, tmp_path):
    import kmigrate.engine

    def boom(*args, **kwargs):
        raise ValueError("rule bug")

    monkeypatch.setattr(kmigrate.engine, "fix_text", boom)
    out = A.run(_snap(KERAS2, tmp_path / "a.py"), A.Settings())
    ((uri, f),) = out.all()
    assert f.code == "KM000" and "internal error (ValueError: rule bug)" in f.message and out.fixed == {}


# ---------------------------------------------------------------------- start-up


def test_the_cli_never_imports_pygls(tmp_path):
    (tmp_path / "a.py").write_text(KERAS2)
    code = ("import sys, runpy\nsys.argv = ['kmigrate', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('kmigrate', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('\\nMODULES', *sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pygls', 'lsprotocol', 'cattrs') or m.startswith('kmigrate.server')))\n")
    for args in (["--version"], ["--check", "--no-cache", "a.py"], ["rules"], ["server", "--help"]):
        proc = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True)
        assert proc.stdout.rstrip().splitlines()[-1] == "MODULES", (args, proc.stdout[-500:], proc.stderr[-2000:])


def test_code_cache_gives_the_same_code_and_only_for_generated_sources(tmp_path):
    from kmigrate.server.codecache import CodeCache

    path = str(tmp_path / "cache.marshal")
    cache = CodeCache(path)
    src = "def __init__(self, x):\n    self.x = x\n"
    code = cache.compile(src, "<attrs generated init Point>", "exec")
    assert cache.added == 1
    cache.compile("x = 1\n", "user.py", "exec")  # a real file: not cached
    cache.compile("x = 1\n", "<string>", "exec", 0, True)  # with dont_inherit: not cached
    assert cache.added == 1
    cache.save()
    again = CodeCache(path)
    assert again.compile(src, "<attrs generated init Point>", "exec") == code and again.hits == 1
    (tmp_path / "broken.marshal").write_bytes(b"not marshal")
    assert CodeCache(str(tmp_path / "broken.marshal")).entries == {}


def test_server_help():
    proc = subprocess.run([sys.executable, "-m", "kmigrate", "server", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "language server" in proc.stdout.lower()
