"""`kmigrate server` speed: start-up, and diagnostics latency on a 1,000-line Keras file.

    python benchmarks/server.py [--repeat N] [--lines N]

Starts the real `python -m kmigrate server` and talks LSP to it over its stdin/stdout with a
minimal client (no pygls on this side), then prints:

- start-up: from starting the process to the answer to `initialize` (best and median of N
  fresh processes; target under 0.5 s);
- open: from `didOpen` of a generated 1,000-line Keras 2 file to its diagnostics;
- change: from a `didChange` that edits one line inside a function to the first diagnostics
  of the new version (the fast path, target 150 ms), and to the full run's (what the CLI says);
- code actions: the quick fixes of one finding, and the fix-all action.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from queue import Empty, Queue

HEADER = '''"""A Keras 2 training script (generated for kmigrate's language server benchmark)."""
import numpy as np
import keras
from keras import backend as K
from keras.models import Sequential, Model
from keras.layers import Dense, Dropout, Input, Conv2D, MaxPooling2D, Flatten, Activation
from keras.layers import Convolution2D
from keras.optimizers import SGD, Adam
from keras.utils import np_utils

'''

BLOCK = '''

def build_mlp_{i}(x, y, units={i}):
    """Model {i}: an MLP trained the Keras 2 way."""
    model = Sequential()
    model.add(Dense(units, input_dim=10, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(4, activation="softmax"))
    sgd = SGD(lr=0.01, momentum=0.9, nesterov=True)
    model.compile(loss="categorical_crossentropy", optimizer=sgd, metrics=["accuracy"])
    model.fit(x, y, nb_epoch=1, batch_size=16, verbose=0)
    K.set_value(model.optimizer.lr, 0.005)
    return model.predict_classes(x[:6])


def build_cnn_{i}(x, y):
    model = Sequential()
    model.add(Convolution2D(8, 3, 3, border_mode="same", input_shape=(12, 12, 1)))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=Adam(lr=1e-3))
    history = model.fit(x, y, batch_size=8, nb_epoch=1, verbose=0)
    scores = [float(v) for v in history.history["loss"]]
    return model, scores
'''


def keras_file(lines: int = 1000) -> str:
    """A Keras 2 file of exactly `lines` lines: imports, then pairs of model-building functions."""
    out, i = HEADER, 0
    while out.count("\n") + BLOCK.count("\n") <= lines:
        out += BLOCK.format(i=i)
        i += 1
    while out.count("\n") < lines:
        out += "# end\n"
    return out


class Client:
    """Just enough JSON-RPC over a pipe to time a language server."""

    def __init__(self, cmd: list[str], cwd: str):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     cwd=cwd)
        self.messages: Queue = Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.messages.put((time.perf_counter(), json.loads(out.read(length))))

    def send(self, method: str, params, request: bool = False):
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return msg.get("id")

    def wait(self, match, timeout: float = 120.0):
        """(arrival time, message) of the first message `match` accepts."""
        end = time.perf_counter() + timeout
        while True:
            try:
                at, msg = self.messages.get(timeout=max(0.01, end - time.perf_counter()))
            except Empty:
                raise TimeoutError("no answer from the server") from None
            if msg.get("method") in ("window/workDoneProgress/create", "workspace/configuration") and "id" in msg:
                self._answer(msg["id"], None)
            if match(msg):
                return at, msg

    def _answer(self, id_, result) -> None:
        body = json.dumps({"jsonrpc": "2.0", "id": id_, "result": result}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params, timeout: float = 120.0):
        id_ = self.send(method, params, request=True)
        return self.wait(lambda m: m.get("id") == id_ and "method" not in m, timeout)[1]

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.send("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


SERVER = [sys.executable, "-m", "kmigrate", "server"]
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere): what the server itself
    spent, which the other work on a shared machine does not inflate as much as wall time."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def initialize(client: Client, root: str) -> dict:
    return client.request("initialize", {
        "processId": os.getpid(), "rootUri": Path(root).as_uri(),
        "capabilities": {"textDocument": {"publishDiagnostics": {"versionSupport": True}}},
    })


def start_up(root: str, repeat: int) -> tuple[list[float], list[float]]:
    """(wall seconds, server CPU seconds) from starting the process to the initialize answer."""
    times, cpu = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        client = Client(SERVER, root)
        initialize(client, root)
        times.append(time.perf_counter() - t0)
        cpu.append(cpu_seconds(client.proc.pid))
        client.send("initialized", {})
        client.close()
    return times, cpu


def diagnostics_for(uri: str, version: int):
    return lambda m: (m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
                      and m["params"].get("version") == version)


def latency(root: str, lines: int, repeat: int) -> dict:
    text = keras_file(lines)
    path = Path(root) / "train.py"
    path.write_text(text)
    uri = path.as_uri()
    client = Client(SERVER, root)
    initialize(client, root)
    client.send("initialized", {})
    t0 = time.perf_counter()
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                          "text": text}})
    at, msg = client.wait(diagnostics_for(uri, 1))
    out = {"open": at - t0, "findings": len(msg["params"]["diagnostics"]), "fast": [], "full": [], "cpu": []}
    # edit a line in the middle: `units={i}` -> `units={i} + 1`, one keystroke-sized change each time
    target = text.splitlines().index(next(l for l in text.splitlines() if "units=" in l and "def " in l
                                          and text.splitlines().index(l) > lines // 2))
    line = text.splitlines()[target]
    col = line.index("):")
    version = 1
    for k in range(repeat):
        version += 1
        time.sleep(0.5)  # the full run of the previous version has ended
        c0 = cpu_seconds(client.proc.pid)
        t0 = time.perf_counter()
        client.send("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": target, "character": col},
                                          "end": {"line": target, "character": col}}, "text": " "}]})
        col += 1
        first, msg = client.wait(diagnostics_for(uri, version))
        out["fast"].append(first - t0)
        out["cpu"].append(cpu_seconds(client.proc.pid) - c0)
        try:
            full, _ = client.wait(diagnostics_for(uri, version), timeout=60)
            out["full"].append(full - t0)
        except TimeoutError:
            pass
        time.sleep(0.2)
    diags = msg["params"]["diagnostics"]
    fixable = next(d for d in diags if d.get("data", {}).get("fixable"))
    t0 = time.perf_counter()
    client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": fixable["range"],
                                               "context": {"diagnostics": [fixable], "only": ["quickfix"]}})
    out["quick fix"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": fixable["range"],
                                               "context": {"diagnostics": [], "only": ["source.fixAll.kmigrate"]}})
    out["fix all"] = time.perf_counter() - t0
    client.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--lines", type=int, default=1000)
    args = ap.parse_args()
    print("load average at the start: %.2f %.2f %.2f (2 cores: above 2, every figure is slower)" % os.getloadavg())
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "pyproject.toml").write_text("[tool.kmigrate]\n")
        s, cpu = start_up(root, args.repeat)
        print(f"start-up (process start to initialize answered): best {min(s):.3f} s, "
              f"median {statistics.median(s):.3f} s over {len(s)} (target < 0.5 s); "
              f"server CPU time best {min(cpu):.2f} s, median {statistics.median(cpu):.2f} s")
        r = latency(root, args.lines, args.repeat)
        print(f"{args.lines}-line Keras file, {r['findings']} findings: first diagnostics after didOpen {r['open']:.3f} s")
        print(f"didChange -> first diagnostics (fast path): best {min(r['fast']) * 1000:.0f} ms, "
              f"median {statistics.median(r['fast']) * 1000:.0f} ms over {len(r['fast'])} (target 150 ms); "
              f"server CPU time for it: median {statistics.median(r['cpu']) * 1000:.0f} ms")
        if r["full"]:
            print(f"didChange -> full diagnostics (as the CLI): best {min(r['full']) * 1000:.0f} ms, "
                  f"median {statistics.median(r['full']) * 1000:.0f} ms")
        print(f"code actions: one quick fix {r['quick fix'] * 1000:.0f} ms (a run of its rule alone), "
              f"fix all {r['fix all'] * 1000:.0f} ms (the full run, cached)")
    print("load average at the end: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
