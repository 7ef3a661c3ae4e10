"""The policy pack in its own process, asked over its gRPC analyzer interface.

Started the way the Pulumi CLI starts a Python policy pack (``python -u -m pulumi.policy
ENGINE_ADDRESS POLICY_DIR``), it prints the port of its analyzer server; the requests and the
reading of the answers are those of :mod:`reskflow_dr.policy_runner`. Offline the verdicts come
from the analyzer in this process (``PolicyPackSession``); this session is what the parity test
compares them with, and what ``evaluate(..., analyzer=True)`` uses.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from typing import IO, Any

import grpc
from pulumi.runtime.proto import analyzer_pb2_grpc

from reskflow_dr.policy_runner import POLICY_DIR, PolicyPackError, _Session

#: The Pulumi CLI passes its engine's address first; a Python pack only parses it.
ENGINE_ADDRESS = "127.0.0.1:0"


def _pump(stream: IO[bytes], sink: queue.Queue[str] | None, keep: list[str]) -> None:
    """Read a pack's output stream to its end, so the pack never blocks on a full pipe."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if sink is not None:
            sink.put(line)
        keep.append(line)
    stream.close()


def _sigint_default() -> None:
    """In the pack's process before it starts: Ctrl-C raises KeyboardInterrupt again."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class AnalyzerPackSession(_Session):
    """The pack in its own process, started as the Pulumi CLI starts it, asked over gRPC, stopped
    on exit."""

    #: Seconds the pack has to stop after Ctrl-C before it is terminated.
    STOP_TIMEOUT = 5.0

    def __init__(
        self,
        policy_dir: str | os.PathLike[str] = POLICY_DIR,
        python: str = sys.executable,
        start_timeout: float = 60.0,
    ) -> None:
        super().__init__(policy_dir)
        self.python = python
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> AnalyzerPackSession:
        self.start()
        return self

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Run the pack, read the port it prints, connect and read its policies."""
        self._check_pack()
        command = [self.python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(self.policy_dir)]
        # Started with SIGINT ignored (nohup, `&` in a script), the pack would inherit that and
        # ignore the Ctrl-C that stops it: give it the default disposition back.
        ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        self._process = subprocess.Popen(
            command,
            cwd=self.policy_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_sigint_default if ignored else None,
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout, stderr = self._process.stdout, self._process.stderr
        assert stdout is not None and stderr is not None
        self._threads = [
            threading.Thread(target=_pump, args=(stdout, lines, self._stdout), daemon=True),
            threading.Thread(target=_pump, args=(stderr, None, self._stderr), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        port = self._read_port(lines)
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 400 * 2**20)]
        )
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
        except grpc.FutureTimeoutError as err:
            self.close()
            raise PolicyPackError(f"policy pack did not answer on port {port}") from err
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self._read_info()

    def _read_port(self, lines: queue.Queue[str]) -> int:
        try:
            first = lines.get(timeout=self.start_timeout)
        except queue.Empty:
            self.close()
            raise PolicyPackError(self._failure("printed no port")) from None
        if not first.strip().isdigit():
            self.close()
            raise PolicyPackError(self._failure(f"printed {first!r} instead of a port"))
        return int(first.strip())

    def _failure(self, what: str) -> str:
        tail = "\n".join(self._stderr[-20:])
        return f"policy pack {self.policy_dir} {what}" + (f":\n{tail}" if tail else "")

    def close(self) -> None:
        """Disconnect and stop the pack (Ctrl-C, as the pack expects; terminated if it does not
        stop in time), then reap it."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=self.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(timeout=self.STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    # -- analyzer calls ---------------------------------------------------------------------

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise PolicyPackError("policy pack is not running")
        return self._stub

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as err:
            raise PolicyPackError(self._failure(f"failed in {method}: {err}")) from err
