"""The student kit the service hands out: the ``vitgrade_student`` wheel, built once per grader version.

Built on first request into ``VAR_DIR/student-kit/<key>/`` (a build takes seconds: the public checks
run once on the reference), where the key hashes the grader's, the reference's and the kit's source
and the grading seed, so a changed check or tolerance gives a new kit. The kit's seed is never the
grading seed (``grader.student_kit.public.public_seed``).
"""

import hashlib
import logging
import threading
from pathlib import Path

import vitgrade_student
from grader.student_kit import wheel_name
from service.config import Settings

log = logging.getLogger(__name__)
_lock = threading.Lock()


def _sources_key(seed: int) -> str:
    import reference
    from grader.student_kit.public import public_checks
    from grader.suite import suite_sha256

    digest = hashlib.sha256(f"{suite_sha256(public_checks())} seed {seed}\n".encode())
    for package in (reference, vitgrade_student):
        for path in sorted(Path(package.__file__).parent.glob("*.py")):
            digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def kit_wheel(settings: Settings) -> Path:
    """The wheel for this service's grading seed, built now if it is not there yet."""
    from grader.student_kit.public import public_seed  # the grader's checks load on the first kit request only

    seed = public_seed(settings.seed)
    directory = settings.var_dir / "student-kit" / _sources_key(seed)
    wheel = directory / wheel_name()
    with _lock:
        if not wheel.is_file():
            log.info("building the student kit into %s (kit seed %d)", directory, seed)
            _build(directory, seed)
    return wheel


def _build(directory: Path, seed: int) -> Path:
    from grader.student_kit.wheel import build_wheel

    return build_wheel(directory, seed)
