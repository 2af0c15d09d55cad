"""The fork server: a trusted process with torch already imported that forks one sandboxed child per start.

Importing torch is most of a sandbox's start (seconds); forking a process that has already imported it
takes milliseconds. This script runs as the grader's user (root here) and never runs student code or
a torch op (so no thread pool exists when it forks). It imports torch, safetensors, timm and the
harness; ``isolation.py`` and ``seccomp.py`` are loaded as plain modules from this directory, so
nothing of ``grader`` or ``reference`` is in the children's memory.

Control socket (AF_UNIX, SOCK_SEQPACKET, one JSON object per message):
- parent -> zygote: ``{"plan": {...}, "serve": {...}, "env": {...}}`` with three descriptors
  attached (request read end, reply write end, log write end);
- zygote -> parent: ``{"ready": true}`` once, ``{"spawned": pid}`` per spawn, ``{"exit": pid, "status": n}``
  when a child it spawned has been reaped. Grandchildren (reparented here: the zygote is a child
  subreaper) are reaped silently.
The child of a fork: new session, stdout/stderr to the log pipe, every other descriptor closed,
isolation applied (``IsolationPlan.apply``), environment replaced, then ``harness.serve``.
"""

import contextlib
import json
import os
import select
import signal
import socket
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def child_main(message: dict, request_fd: int, reply_fd: int, log_fd: int) -> None:
    """In the forked child: confine, then serve. Never returns."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        keep = sorted({0, 1, 2, request_fd, reply_fd})
        previous = 2
        for fd in keep[3:] + [65536]:
            if fd > previous + 1:  # never an empty range: closerange(n, n) closes everything from n on
                os.closerange(previous + 1, fd)
            previous = fd
        import isolation

        plan = isolation.IsolationPlan(**message["plan"])
        plan.rlimits = {int(k): v for k, v in plan.rlimits.items()}
        plan.apply()
        os.environ.clear()
        os.environ.update(message["env"])
        sys.argv = ["harness.py"]
        import harness

        serve = message["serve"]
        harness.serve(serve["module"], request_fd, reply_fd, serve["device"], serve["threads"], serve["audit"])
    except BaseException:  # noqa: BLE001 - report the isolation failure to the log, then die
        with contextlib.suppress(OSError):
            os.write(2, traceback.format_exc().encode())
        os._exit(125)
    os._exit(0)


def kill_everything(spawned: set[int], uids: set[int]) -> None:
    """SIGKILL the children we forked (their process groups) and every process of a sandbox uid we used."""
    for pid in spawned:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                uid_line = next(line for line in handle if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if {int(u) for u in uid_line.split()[1:4]} & uids:
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)


def main() -> None:
    control_fd = int(sys.argv[1])
    sys.path.insert(0, HERE)
    import ctypes

    import torch  # noqa: F401 - the point: imported once, shared by every child
    from safetensors import torch as _safetensors  # noqa: F401

    with contextlib.suppress(ImportError):
        import timm  # noqa: F401 - most submissions import it at module level
    import harness  # noqa: F401
    import isolation  # noqa: F401
    import seccomp  # noqa: F401

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come back here to be reaped
    control = socket.socket(fileno=control_fd)
    control.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    spawned: set[int] = set()
    uids: set[int] = set()
    while True:
        readable, _, _ = select.select([control], [], [], 0.2)
        if readable:
            data, fds, _, _ = socket.recv_fds(control, 1 << 20, 3)
            if not data:  # the grader is gone: take every sandbox process down with us
                kill_everything(spawned, uids)
                return
            message = json.loads(data)
            if message["plan"].get("uid") is not None:
                uids.add(int(message["plan"]["uid"]))
            pid = os.fork()
            if pid == 0:
                control.close()
                child_main(message, *fds)
            for fd in fds:
                os.close(fd)
            spawned.add(pid)
            control.send(json.dumps({"spawned": pid}).encode())
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in spawned:
                spawned.discard(pid)
                control.send(json.dumps({"exit": pid, "status": os.waitstatus_to_exitcode(status)}).encode())


if __name__ == "__main__":
    main()
