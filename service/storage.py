"""Uploads, content-addressed by sha256: on disk (temp file, fsync, rename, fsync the directory) or in the
database (PostgreSQL deployments, where workers on other hosts share nothing but the database)."""

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

if TYPE_CHECKING:
    from service.config import Settings
    from service.db import Database


class BlobStore:
    """``root/ab/cd/<sha256>``; a blob is immutable once written."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"Not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` durably (on disk and in its directory entry) and return its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        created = [d for d in (target.parent.parent, target.parent) if not d.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)  # the new name is durable
        for folder in created:  # and so are the folders made for it
            _fsync_dir(folder.parent)
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def get_many(self, digests: Iterable[str]) -> "Prefetched":
        """Several blobs at once (the same interface as the database store's)."""
        return Prefetched({digest: self.get(digest) for digest in set(digests)})


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DatabaseBlobStore:
    """Uploads in the database's ``blobs`` table, content-addressed by sha256: what a worker on another host
    reads with nothing but the database URL (one PostgreSQL backup then covers everything)."""

    def __init__(self, database: "Database"):
        self.database = database

    def put(self, data: bytes) -> str:
        """Store ``data`` (committed before returning: PostgreSQL's commit is durable) and return its sha256."""
        from service.models import Blob

        digest = hashlib.sha256(data).hexdigest()
        with self.database.write_session() as session:
            if session.get(Blob, digest) is None:
                session.add(Blob(sha256=digest, size=len(data), data=data))
        return digest

    def get(self, sha256: str) -> bytes:
        from service.models import Blob

        with self.database.session() as session:
            blob = session.get(Blob, sha256)
            if blob is None:
                raise FileNotFoundError(f"No stored upload with sha256 {sha256}.")
            return bytes(blob.data)

    def get_many(self, digests: Iterable[str]) -> "Prefetched":
        """Several blobs in one query (those not stored raise ``FileNotFoundError`` when asked for)."""
        from service.models import Blob

        wanted = sorted(set(digests))
        if not wanted:
            return Prefetched({})
        with self.database.session() as session:
            rows = session.execute(select(Blob.sha256, Blob.data).where(Blob.sha256.in_(wanted)))
            return Prefetched({digest: bytes(data) for digest, data in rows})


class Prefetched:
    """Blobs read in one go (one query for a whole list view), served with a store's ``get``."""

    def __init__(self, blobs: dict[str, bytes]):
        self.blobs = blobs

    def get(self, sha256: str) -> bytes:
        if sha256 not in self.blobs:
            raise FileNotFoundError(f"No stored upload with sha256 {sha256} (among the {len(self.blobs)} read).")
        return self.blobs[sha256]


def open_store(settings: "Settings", database: "Database") -> "BlobStore | DatabaseBlobStore":
    """The upload store ``settings.blob_store`` asks for: ``auto`` keeps files in PostgreSQL when the database
    is PostgreSQL (workers on other hosts need no shared disk) and on disk next to SQLite."""
    choice = settings.blob_store
    if choice == "database" or (choice == "auto" and not database.sqlite):
        return DatabaseBlobStore(database)
    return BlobStore(settings.resolved_storage_dir)
