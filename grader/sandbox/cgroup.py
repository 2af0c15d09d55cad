"""A per-sandbox cgroup: memory limit without swap, a pids limit, and a kill that nothing escapes.

cgroup v2 when its memory and pids controllers are delegated to us (``cgroup.kill``), else the v1
``memory`` and ``pids`` hierarchies (kill = SIGKILL every member until none is left). The group is
created under the parent's own cgroup. When neither is writable, ``SandboxCgroup.create`` returns None
and the sandbox relies on rlimits and the uid sweep.
"""

import contextlib
import logging
import os
import signal
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path("/sys/fs/cgroup")


def _own_paths() -> dict[str, str]:
    """controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def remove_stale(name: str) -> int:
    """Kill and remove groups ``vitgrade-<name>-*`` (up to three levels deep) that a grader which died left.

    Only called while holding the slot's lock, so any such group belongs to nobody alive.
    """
    if (ROOT / "cgroup.controllers").is_file():
        roots, version = [ROOT], 2
    else:
        roots, version = [ROOT / "memory", ROOT / "pids"], 1
    removed = 0
    for root in roots:
        for depth in ("", "*/", "*/*/"):
            for group in root.glob(f"{depth}vitgrade-{name}-*"):
                stale = SandboxCgroup([group], version)
                stale.kill(attempts=20)
                stale.remove()
                removed += 1
    return removed


class SandboxCgroup:
    """The cgroup directories of one child (one for v2, one per controller for v1)."""

    def __init__(self, dirs: list[Path], version: int):
        self.dirs, self.version = dirs, version

    @classmethod
    def create(cls, name: str, *, memory_bytes: int, pids: int) -> "SandboxCgroup | None":
        """Make and limit the group, or None when cgroups are not writable here."""
        leaf = f"vitgrade-{name}-{uuid.uuid4().hex[:8]}"
        try:
            own = _own_paths()
            if (ROOT / "cgroup.controllers").is_file():
                controllers = (ROOT / "cgroup.controllers").read_text().split()
                if not {"memory", "pids"} <= set(controllers):
                    return None
                group = ROOT / own.get("", "/").lstrip("/") / leaf
                group.mkdir()
                made = cls([group], 2)
                made._write(group / "memory.max", memory_bytes)
                made._write(group / "memory.swap.max", 0, required=False)
                made._write(group / "pids.max", pids)
                made._private()
                return made
            memory_root, pids_root = ROOT / "memory", ROOT / "pids"
            if not (memory_root / "cgroup.procs").is_file() or not (pids_root / "cgroup.procs").is_file():
                return None
            memory = memory_root / own.get("memory", "/").lstrip("/") / leaf
            pid_group = pids_root / own.get("pids", "/").lstrip("/") / leaf
            memory.mkdir()
            made = cls([memory], 1)
            pid_group.mkdir()
            made.dirs.append(pid_group)
            made._write(memory / "memory.limit_in_bytes", memory_bytes)
            made._write(memory / "memory.memsw.limit_in_bytes", memory_bytes, required=False)
            made._write(memory / "memory.swappiness", 0, required=False)
            made._write(pid_group / "pids.max", pids)
            made._private()
            return made
        except OSError as error:
            log.info("no sandbox cgroup (%s); relying on rlimits", error)
            if "made" in locals():
                made.remove()
            return None

    def _private(self) -> None:
        """Only root may enter the group's directories: no sandbox uid reads another one's members."""
        for group in self.dirs:
            group.chmod(0o700)

    @staticmethod
    def _write(path: Path, value: int, required: bool = True) -> None:
        try:
            path.write_text(str(value))
        except OSError:
            if required:
                raise

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a new member writes its pid to."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for group in self.dirs:
            with contextlib.suppress(OSError):
                found |= {int(p) for p in (group / "cgroup.procs").read_text().split()}
        return found

    def kill(self, attempts: int = 200) -> bool:
        """SIGKILL every member until the group is empty; True when it is."""
        if self.version == 2 and (self.dirs[0] / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                (self.dirs[0] / "cgroup.kill").write_text("1")
        for _ in range(attempts):
            members = self.pids()
            if not members:
                return True
            for pid in members:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)
        return not self.pids()

    def memory_events(self) -> str:
        """A short note when the memory limit was hit (for the crash message), else ''."""
        group = self.dirs[0]
        try:
            if self.version == 2:
                events = dict(line.split() for line in (group / "memory.events").read_text().splitlines())
                return "memory limit reached" if int(events.get("oom_kill", 0)) else ""
            control = dict(line.split() for line in (group / "memory.oom_control").read_text().splitlines())
            killed = int(control.get("oom_kill", 0)) or int((group / "memory.failcnt").read_text())
            return "memory limit reached" if killed else ""
        except (OSError, ValueError):
            return ""

    def remove(self) -> None:
        for group in self.dirs:
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
