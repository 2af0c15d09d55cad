"""A served API for the kit's submit tests: the service's app under uvicorn in a thread, one student token."""

import contextlib
import importlib.util
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from service.app import create_app
from service.config import Settings
from service.db import Database
from service.migrate import upgrade
from service.models import Role
from service.roster import issue_tokens

REPO = Path(__file__).parents[2]
_spec = importlib.util.spec_from_file_location("service_test_support", REPO / "tests" / "service" / "conftest.py")
service_support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(service_support)  # the service tests' live processes: LiveService, free_port


class Served:
    """The service's app under uvicorn in a thread, on its own SQLite database; one student token."""

    def __init__(self, var_dir: Path):
        self.settings = Settings(var_dir=var_dir, rate_limit_count=1000)
        database = Database(self.settings)
        upgrade(database)
        self.token = issue_tokens(database, ["alice"], Role.student)["alice"]
        database.dispose()
        port = service_support.free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(create_app(self.settings), host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise AssertionError("uvicorn did not start in 30 s")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@contextlib.contextmanager
def served_service(var_dir: Path) -> Iterator[Served]:
    service = Served(var_dir)
    try:
        yield service
    finally:
        service.stop()
