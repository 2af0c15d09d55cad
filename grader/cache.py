"""The grader's file cache (reference accuracies, the Q8 test checkpoint): best effort, atomic writes.

A cache that cannot be written (a read-only container, a full disk) costs time, never a grade: the
value is recomputed next time and a warning is logged.
"""

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def write_atomically(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temporary file and a rename; False (and a warning) on failure."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
    except OSError as error:
        log.warning("could not cache %s: %s", path, error)
        return False
    return True
