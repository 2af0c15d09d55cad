"""``Sandbox``: the parent's handle on one submission's child process (docs/architecture.md, "Sandbox protocol").

The parent sends requests (an op, JSON args and input tensors) and gets data back (JSON values and
plain tensors); it never unpickles, and every frame from the child is untrusted. Each request
carries a fresh random ``id`` that the harness echoes; a reply with another id (say, a frame forged
by student code writing to the pipe) is a protocol violation and the child is killed. The nonce
lives in the harness's memory, so student code that digs it out could forge a reply: that can only
ever give wrong tensors, never a verdict, which the parent alone computes.
"""

import atexit
import contextlib
import logging
import os
import secrets
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import SubprocessError
from typing import Any

import torch

from grader.sandbox import protocol
from grader.sandbox.cgroup import SandboxCgroup
from grader.sandbox.errors import SandboxCrashed, SandboxTimeout, SandboxUnavailable, StudentError
from grader.sandbox.forkserver import ForkServerError, fork_server
from grader.sandbox.isolation import IsolationPlan
from grader.sandbox.limits import SandboxLimits
from grader.sandbox.process import (
    ChildProcess,
    SandboxSlot,
    WorkDir,
    default_hidden_paths,
    ensure_subreaper,
    kill_uid,
    plan_for,
    write_child_files,
)
from grader.sandbox.replies import check_reply, payload_cap, tensor_allowed

log = logging.getLogger(__name__)

LEVELS = ("root", "uid", "userns", "none")
ROOT_LEVELS = LEVELS  # tried in this order when the grader is root
USER_LEVELS = ("userns", "none")  # and when it is not
CHILD_DESCRIPTORS = ("stdin", "stdout", "stderr", "requests", "replies")  # all a child may hold
_warned_levels: set[str] = set()
_open_sandboxes: "weakref.WeakSet[Sandbox]" = weakref.WeakSet()


@atexit.register
def _close_open_sandboxes() -> None:
    """At interpreter exit, close what callers left open (a killed grader is handled by the slot sweep)."""
    for box in list(_open_sandboxes):
        with contextlib.suppress(Exception):
            box.close()


@dataclass
class Reply:
    """One successful answer: JSON values and plain CPU tensors (``nonfinite`` names those with NaN/inf)."""

    values: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    nonfinite: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Sandbox:
    """One submission's isolated child; use as a context manager.

    ``start_method``: ``zygote`` (default; forked from the process-wide fork server, which imported
    torch once) or ``exec`` (a fresh interpreter per start). ``isolation_level`` forces ``root``,
    ``userns`` or ``none`` (tests; by default the strongest level that works here is used and kept).
    ``isolation`` lists the mechanisms in force, checked against the child's own report.
    ``uid_base`` (first sandbox uid, root only) and ``hide`` (directories masked besides the repository, the
    grader's home and the default cache dir) come from the grader's settings (``sandbox_uid_base``,
    ``GraderSettings.hidden_paths()``); left out, they are read from a fresh ``GraderSettings()``.
    """

    def __init__(
        self,
        module_source: str,
        *,
        device: str = "cpu",
        limits: SandboxLimits | None = None,
        seed: int = 0,
        start_method: str = "zygote",
        isolation_level: str | None = None,
        uid_base: int | None = None,
        hide: Sequence[str | Path] | None = None,
    ):
        if start_method not in ("zygote", "exec"):
            raise ValueError(f"start_method must be 'zygote' or 'exec', got {start_method!r}")
        if isolation_level not in (None, *LEVELS):
            raise ValueError(f"isolation_level must be one of {LEVELS} or None, got {isolation_level!r}")
        self.isolation_level = isolation_level
        self.module_source, self.device, self.seed = module_source, device, seed
        self.start_method = start_method
        self.limits = limits or SandboxLimits()
        if uid_base is None or hide is None:
            from grader.settings import GraderSettings  # late: grader.settings imports this package's limits

            configured = GraderSettings()
            uid_base = configured.sandbox_uid_base if uid_base is None else uid_base
            hide = configured.hidden_paths() if hide is None else hide
        self.uid_base = uid_base
        self.hidden = default_hidden_paths(hide)  # masked at the levels with a mount namespace
        self.defined_names: list[str] = []
        self.import_error: str | None = None
        self.isolation: list[str] = []
        self.start_seconds = 0.0
        self.timings: dict[str, float] = {}  # start breakdown: spawn_s, hello_s, import_s (seconds)
        self._child: ChildProcess | None = None
        self._slot: SandboxSlot | None = None
        self._cgroup: SandboxCgroup | None = None
        self._workdir: str | None = None
        self._dir: WorkDir | None = None
        self._logs: list[str] = []
        self._spent = 0.0  # wall seconds used against limits.total_timeout_s
        self._closed = False

    # --- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> "Sandbox":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the child and import the module; fills ``defined_names`` and ``import_error``."""
        _open_sandboxes.add(self)
        if os.geteuid() == 0:
            self._slot = SandboxSlot(self.uid_base)
            self._slot.sweep()  # anything left from a grader that died holding this slot
        if self.start_method == "exec":
            ensure_subreaper()
        slot = self._slot.number if self._slot else None
        self._dir = WorkDir(self.limits.workdir_bytes if self._slot else None, slot)
        self._workdir = self._dir.path
        began = time.monotonic()
        try:
            reply = self._spawn_and_ask_names()
        except SandboxTimeout as error:
            self.import_error = f"The module did not finish importing: {error.message}"
            return
        except SandboxCrashed as error:
            self.import_error = f"The module stopped the process while importing: {error}"
            return
        except StudentError as error:  # a malformed names reply: student code meddled with the harness
            self.import_error = f"The module broke the sandbox while importing: {error.message}"
            return
        finally:
            self.start_seconds = time.monotonic() - began
        names = reply.values.get("names")
        self.defined_names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
        error = reply.values.get("import_error")
        self.import_error = None if error is None else str(error)[:4000]

    def close(self) -> None:
        """Kill the child and everything it started; remove its directory and cgroup."""
        if self._closed:
            return
        self._closed = True
        _open_sandboxes.discard(self)
        self._stop_child()
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._slot is not None:
            kill_uid(self._slot.uid)
            self._slot.release()
        if self._dir is not None:
            self._dir.remove()

    @property
    def log(self) -> str:
        """The child's captured stdout and stderr (all starts), capped and marked when truncated."""
        parts = list(self._logs)
        if self._child is not None:
            parts.append(self._child.log.text())
        return "".join(parts)

    def place_file(self, name: str, data: bytes) -> str:
        """Write ``data`` into the child's private directory as ``name``; returns the path the child sees."""
        if self._workdir is None:
            raise RuntimeError("place_file needs a started sandbox")
        if not name or "/" in name or name.startswith(".") or name in ("harness.py", "submission.py"):
            raise ValueError(f"invalid file name {name!r}: a plain name inside the sandbox directory")
        try:
            self._dir.write(name, data)
        except OSError as error:  # the child got in the way (a directory or a racing link by that name)
            raise SandboxCrashed(f"could not place {name!r} in the sandbox directory: {error}") from None
        return f"{self._plan_workdir()}/{name}"

    # --- requests --------------------------------------------------------------------------------

    def request(
        self,
        op: str,
        args: dict[str, Any] | None = None,
        tensors: dict[str, torch.Tensor] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """Run one op in the child; raises StudentError, SandboxTimeout or SandboxCrashed (SandboxUnavailable when
        a restarted child cannot start)."""
        if self._closed:
            raise RuntimeError("the sandbox is closed")
        if self.import_error is not None and op != "names":
            raise StudentError("exception", f"the module failed to import:\n{self.import_error}", self.import_error)
        if self._child is None:
            self._spawn_and_ask_names()
        return self._exchange(op, args or {}, tensors, timeout or self.limits.request_timeout_s)

    def _exchange(
        self, op: str, args: dict[str, Any], tensors: dict[str, torch.Tensor] | None, timeout: float
    ) -> Reply:
        child = self._child
        budget = self.limits.total_timeout_s - self._spent
        if budget <= 0:
            raise SandboxTimeout(f"the submission used its whole time budget of {self.limits.total_timeout_s:g} s", 0)
        limit = min(timeout, budget)
        nonce = secrets.token_hex(16)
        began = time.monotonic()
        deadline = began + limit
        try:
            request = {"id": nonce, "op": op, "args": args}
            protocol.write_frame(child.request_w, request, protocol.pack_tensors(tensors), deadline)
            cap = payload_cap(op, args, tensors, self.limits.payload_bytes)
            allowed = tensor_allowed(op, args, tensors)
            header, payload = protocol.read_frame(child.reply_r, deadline, self.limits.header_bytes, cap, allowed)
        except protocol.ChannelTimeout:
            self._spent += time.monotonic() - began
            self._stop_child()
            raise SandboxTimeout(f"{op} took longer than {limit:g} s; the process was killed", limit) from None
        except protocol.ChannelClosed:
            self._spent += time.monotonic() - began
            raise self._crash(f"the process ended during {op}") from None
        except protocol.BadTensors as error:  # the rest of the payload is unread: the child cannot go on
            self._spent += time.monotonic() - began
            self._stop_child()
            raise StudentError("bad_output", f"the reply to {op} was refused: {error}") from None
        except protocol.ProtocolError as error:
            self._spent += time.monotonic() - began
            raise self._crash(f"the process broke the protocol during {op}: {error}") from None
        self._spent += time.monotonic() - began
        if header.get("id") != nonce:
            raise self._crash(f"the process sent a reply that does not answer {op} (forged or out of order)")
        if not header.get("ok"):
            error = header.get("error") if isinstance(header.get("error"), dict) else {}
            kind, message = str(error.get("kind", "exception")), str(error.get("message", ""))[:4000]
            raise StudentError(kind, message, str(error.get("traceback", ""))[:4000])
        try:
            out, nonfinite = protocol.unpack_tensors(payload)
        except protocol.ProtocolError as error:
            raise StudentError("bad_output", str(error)) from None
        values, out = check_reply(op, args, tensors, header.get("values"), out)
        return Reply(values, out, [n for n in nonfinite if n in out], time.monotonic() - began)

    # --- child management --------------------------------------------------------------------------

    def _spawn_and_ask_names(self) -> Reply:
        levels = ROOT_LEVELS if os.geteuid() == 0 else USER_LEVELS
        if self.isolation_level is not None:
            levels = (self.isolation_level,)
        if self._cgroup is None and os.geteuid() == 0:
            name = str(self._slot.number) if self._slot else "x"
            self._cgroup = SandboxCgroup.create(name, memory_bytes=self.limits.memory_bytes, pids=self.limits.processes)
        try:
            write_child_files(self._dir, self.module_source)
        except OSError as error:  # e.g. a previous child filled or mangled its directory
            raise SandboxCrashed(f"could not prepare the sandbox directory: {error}") from None
        if self.start_method == "zygote":
            try:  # the start deadline begins once the fork server (which imports torch once) is ready
                fork_server()
            except (ForkServerError, OSError, SubprocessError) as error:
                raise SandboxUnavailable(f"the fork server could not start: {error}") from None
        began = time.monotonic()
        deadline = began + self.limits.start_timeout_s
        failures = []
        for level in levels:
            plan = plan_for(level, self._workdir, self._slot, self.limits, self.device, self._cgroup, self.hidden)
            if self._slot is not None:  # the sandbox uid owns its directory only when it runs as that uid
                owner = (plan.uid, plan.gid) if plan.uid is not None else (os.geteuid(), os.getegid())
                self._dir.chown(*owner)
            try:
                spawned = time.monotonic()
                self._child = ChildProcess(plan, limits=self.limits, device=self.device, start_method=self.start_method)
                self.timings["spawn_s"] = time.monotonic() - spawned
                hello, _ = protocol.read_frame(self._child.reply_r, deadline, 1 << 16, 0)
                self.timings["hello_s"] = time.monotonic() - spawned - self.timings["spawn_s"]
            except protocol.ChannelTimeout:  # no student code has run yet: the grader's own start was too slow
                self._stop_child()
                raise SandboxUnavailable(
                    f"the sandbox did not start within {self.limits.start_timeout_s:g} s of the fork server being "
                    "ready (the machine may be overloaded)"
                ) from None
            except (OSError, SubprocessError, ForkServerError, protocol.ChannelClosed, protocol.ProtocolError) as error:
                # Nothing of the student's has run yet: this level of isolation is not available here.
                failures.append(f"{level}: {error} {self._child.log.text()[-500:] if self._child else ''}")
                self._stop_child()
                continue
            if hello.get("python_readable") is False:
                failures.append(f"{level}: the sandbox uid cannot read the Python installation")
                self._stop_child()
                continue
            if len(hello.get("descriptors") or ()) != len(CHILD_DESCRIPTORS):  # stdin, log x2, two pipes
                failures.append(f"{level}: the child holds descriptors {hello.get('descriptors')}, expected 5")
                self._stop_child()
                continue
            self.isolation = self._verified(plan, hello)
            self._plan = plan
            if level != levels[0] and level not in _warned_levels:
                _warned_levels.add(level)
                log.warning("sandbox isolation fell back to %r: %s", level, failures)
            break
        else:
            raise SandboxUnavailable(f"could not start the sandbox child at any isolation level: {failures}")
        self._spent += time.monotonic() - began
        asked = time.monotonic()
        reply = self._exchange("names", {}, None, self.limits.import_timeout_s)
        self.timings["import_s"] = time.monotonic() - asked
        return reply

    def _verified(self, plan: IsolationPlan, hello: dict[str, Any]) -> list[str]:
        """The plan's mechanisms, checked against what the child saw of itself before any student code."""
        if plan.level == "root" and hello.get("uid") != plan.uid:
            self._stop_child()
            raise RuntimeError(f"the sandbox child runs as uid {hello.get('uid')}, expected {plan.uid}")
        mechanisms = plan.mechanisms()
        if hello.get("no_new_privs") != 1:
            mechanisms.remove("no_new_privs")
        if "seccomp" in mechanisms and hello.get("seccomp") != 2:
            mechanisms.remove("seccomp")
        if "netns" in mechanisms and hello.get("interfaces_up"):
            mechanisms.remove("netns")
        if plan.level == "none":
            mechanisms.append("audit_hook")
        return mechanisms

    def _plan_workdir(self) -> str:
        plan = getattr(self, "_plan", None)
        return plan.child_workdir if plan is not None else self._workdir

    def _crash(self, message: str) -> SandboxCrashed:
        child = self._child
        status = child.status(wait=0.5) if child is not None else None
        note = self._cgroup.memory_events() if self._cgroup is not None else ""
        self._stop_child()
        if status is not None and status < 0:
            message += f" (killed by signal {-status}: {_signal_name(-status)})"
        if note:
            message += f"; {note}"
        return SandboxCrashed(message, status)

    def _stop_child(self) -> None:
        if self._child is not None:
            self._child.kill(self._cgroup)
            self._logs.append(self._child.log.text())
            self._child = None


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
