"""Parent side of the fork server (``zygote.py``): start it once per process, ask it for children.

One ``ForkServer`` per grader process, shared by every ``Sandbox`` (thread-safe). It is restarted
when it died. Exit statuses of the children it forked arrive as messages and are kept until asked.
"""

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ZYGOTE = Path(__file__).with_name("zygote.py")
READY_TIMEOUT_S = 300.0

_lock = threading.Lock()
_server: "ForkServer | None" = None


class ForkServerError(Exception):
    """The fork server could not be started or stopped answering."""


class ForkServer:
    """A running zygote and its control socket."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        self._lock = threading.Lock()
        self._statuses: dict[int, int] = {}
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(ZYGOTE), str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
            cwd="/",
        )
        theirs.close()
        message = self._receive(time.monotonic() + READY_TIMEOUT_S)
        if not message.get("ready"):
            raise ForkServerError(f"the fork server said {message!r} instead of ready")

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, message: dict, fds: tuple[int, int, int]) -> int:
        """Fork a confined harness; returns its pid."""
        with self._lock:
            socket.send_fds(self._socket, [json.dumps(message).encode()], list(fds))
            deadline = time.monotonic() + 30
            while True:
                reply = self._receive(deadline)
                if "spawned" in reply:
                    return int(reply["spawned"])
                self._note(reply)

    def exit_status(self, pid: int, wait: float = 0.0) -> int | None:
        """The exit status (minus the signal number) of a child once reaped, else None."""
        deadline = time.monotonic() + wait
        with self._lock:
            while pid not in self._statuses:
                try:
                    self._note(self._receive(deadline))
                except TimeoutError:
                    return None
            return self._statuses.pop(pid)

    def _note(self, message: dict) -> None:
        if "exit" in message:
            self._statuses[int(message["exit"])] = int(message["status"])

    def _receive(self, deadline: float) -> dict:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the fork server did not answer")
            self._socket.settimeout(remaining)
            try:
                data = self._socket.recv(1 << 16)
            except TimeoutError:
                raise
            except OSError as error:
                raise ForkServerError(f"the fork server's socket failed: {error}") from None
            if not data:
                raise ForkServerError(f"the fork server exited (status {self.process.poll()})")
            return json.loads(data)

    def stop(self) -> None:
        self._socket.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def fork_server() -> ForkServer:
    """The process-wide fork server, started (or restarted) on demand."""
    global _server
    with _lock:
        if _server is None or not _server.alive():
            _server = ForkServer()
        return _server


def started() -> bool:
    """Whether a fork server is already running (its start is not part of a sandbox start)."""
    return _server is not None and _server.alive()


def stop_fork_server() -> None:
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None
