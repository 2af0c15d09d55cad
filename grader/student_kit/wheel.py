"""Package the student kit as a wheel that ``pip install URL`` accepts, its fixtures inside.

A wheel is a zip with the package's files and a ``.dist-info`` directory (METADATA, WHEEL,
entry_points.txt, RECORD with each file's sha256). Only ``vitgrade_student/`` goes in: its Python
files and the fixtures built by ``build.build_fixtures``; no reference, grader or service code, no
hidden configuration, no rubric. Timestamps are fixed, so the same inputs give the same bytes; the file appears whole
(written aside, then renamed), also when two API processes build it at once.
"""

import base64
import hashlib
import os
import secrets
import tempfile
import zipfile
from pathlib import Path

import vitgrade_student
from grader.student_kit import DIST_NAME, wheel_name
from grader.student_kit.build import build_fixtures

PACKAGE_DIR = Path(vitgrade_student.__file__).parent
EPOCH = (1980, 1, 1, 0, 0, 0)


def _metadata(version: str) -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: vitgrade-student\nVersion: {version}\n"
        "Summary: Run the ViT lab's public checks where you work, and submit from there.\n"
        "Requires-Python: >=3.10\nRequires-Dist: torch\nRequires-Dist: safetensors\n"
    )


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def package_files(fixtures: Path) -> dict[str, bytes]:
    """The wheel's package files: ``vitgrade_student/*.py`` and the fixtures."""
    files = {f"vitgrade_student/{p.name}": p.read_bytes() for p in sorted(PACKAGE_DIR.glob("*.py"))}
    files["vitgrade_student/data/fixtures.safetensors"] = fixtures.read_bytes()
    return files


def build_wheel(out_dir: Path, seed: int, fixtures: Path | None = None) -> Path:
    """Build the fixtures at ``seed`` (unless already built at ``fixtures``) and write the wheel into
    ``out_dir``; returns its path."""
    version = vitgrade_student.__version__
    with tempfile.TemporaryDirectory() as scratch:
        if fixtures is None:
            fixtures = Path(scratch) / "fixtures.safetensors"
            build_fixtures(fixtures, seed)
        files = package_files(fixtures)
    info = f"{DIST_NAME}-{version}.dist-info"
    files[f"{info}/METADATA"] = _metadata(version).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: vitgrade\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nvitgrade-submit = vitgrade_student.submit:main\n"
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel_name(version)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")  # one per builder
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    partial.replace(target)
    return target
