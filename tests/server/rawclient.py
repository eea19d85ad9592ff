"""A bare JSON-RPC pipe to `kmigrate server`, for what a well-behaved client never sends
(bytes that are not JSON, params of the wrong shape)."""
from __future__ import annotations

import json
import subprocess
import threading
import time
from queue import Empty, Queue

from .conftest import SERVER


class RawClient:
    def __init__(self, cwd):
        self.proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=cwd)
        self.messages: Queue = Queue()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

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
            self.messages.put(json.loads(out.read(length)))

    def raw(self, body: bytes) -> None:
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.raw(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def wait(self, match, timeout: float = 60.0) -> dict:
        end = time.monotonic() + timeout
        while True:
            try:
                msg = self.messages.get(timeout=max(0.01, end - time.monotonic()))
            except Empty:
                raise TimeoutError("no such message from the server") from None
            if match(msg):
                return msg

    def response(self, id_, timeout: float = 60.0) -> dict:
        return self.wait(lambda m: m.get("id") == id_ and "method" not in m, timeout)

    def close(self) -> int:
        try:
            self.send({"id": "bye", "method": "shutdown"})
            self.response("bye", 10)
            self.send({"method": "exit"})
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
