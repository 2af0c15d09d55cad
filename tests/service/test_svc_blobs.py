"""Uploads live in PostgreSQL when the database is PostgreSQL (workers elsewhere need only its URL), on disk
next to SQLite; either way a blob reads back byte for byte and is stored once."""

import pytest
from sqlalchemy import func, select

from service.config import Settings
from service.db import Database
from service.models import Blob
from service.storage import BlobStore, DatabaseBlobStore, open_store


def test_auto_picks_the_database_for_postgresql_and_the_disk_for_sqlite(settings: Settings, database: Database):
    store = open_store(settings, database)
    assert isinstance(store, BlobStore if database.sqlite else DatabaseBlobStore)
    forced = open_store(settings.model_copy(update={"blob_store": "database"}), database)
    assert isinstance(forced, DatabaseBlobStore)
    assert isinstance(open_store(settings.model_copy(update={"blob_store": "filesystem"}), database), BlobStore)


def test_database_blobs_round_trip_and_are_content_addressed(database: Database):
    store = DatabaseBlobStore(database)
    data = bytes(range(256)) * 1000  # binary, with NUL bytes
    digest = store.put(data)
    assert store.put(data) == digest  # the same bytes are stored once
    assert store.get(digest) == data
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == 1
    with pytest.raises(FileNotFoundError, match="No stored upload"):
        store.get("0" * 64)


def test_bad_blob_store_setting_is_refused():
    with pytest.raises(ValueError, match="blob_store"):
        Settings(blob_store="s3")
