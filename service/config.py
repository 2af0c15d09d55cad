"""One pydantic-settings ``Settings`` for the service, with the grader's settings nested as ``Settings.grader``.

Every field is ``VITGRADE_<NAME>``; a nested model's field is ``VITGRADE_<NAME>__<FIELD>``. The grader's fields
keep their short names (``VITGRADE_DEVICE``, ``VITGRADE_CACHE_DIR``, ...: the grader reads them alone too), and
``VITGRADE_GRADER__<FIELD>`` is accepted as well. docs/configuration.md lists every variable.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from grader.devices import DeviceError, parse_device, parse_devices
from grader.intake import limits
from grader.settings import ENV_PREFIX, NESTED_DELIMITER, GraderSettings
from service.lti.config import LtiSettings

DEFAULT_VAR_DIR = Path("var")


class Settings(BaseSettings):
    """Service settings (environment variables prefixed ``VITGRADE_``); the grader's are ``grader``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter=NESTED_DELIMITER, extra="ignore")

    grader: GraderSettings = Field(
        default_factory=GraderSettings,
        description="The grader's settings (device, data and cache dirs, limits, sandbox uids), read by their own "
        "rule: VITGRADE_<FIELD> or VITGRADE_GRADER__<FIELD>.",
    )
    lti: LtiSettings = Field(
        default_factory=LtiSettings,
        description="The LMS registration for the LTI 1.3 grade push, read by its own rule: VITGRADE_LTI_<FIELD>.",
    )
    # Further nested settings classes (each with its own prefix) go here the same way and get a section in
    # service/settings_doc.py (a test fails until they do); the validator below serves them all.

    var_dir: Path = Field(default=DEFAULT_VAR_DIR, description="Local state: the SQLite file and the uploads.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in WAL mode under var_dir.")
    storage_dir: Path | None = Field(default=None, description="Uploads by sha256; default var_dir/uploads.")
    blob_store: Literal["auto", "filesystem", "database"] = Field(
        default="auto",
        description="Where uploads live: auto = in the database with PostgreSQL (workers on other hosts need "
        "only the database URL), on disk (storage_dir) with SQLite.",
    )
    max_file_bytes: int = Field(default=limits.MAX_FILE_BYTES, description="Cap per uploaded file.")
    max_request_bytes: int = Field(default=limits.MAX_TOTAL_BYTES, description="Cap per request (all files).")
    max_header_bytes: int = Field(
        default=32 * 1024, description="Cap on a request's line and headers (431 above), with service.http."
    )
    max_files: int = Field(default=limits.MAX_FILES, description="Files per submission.")
    rate_limit_count: int = Field(default=10, description="Submissions a student may make per window.")
    rate_limit_window_s: float = Field(default=60.0, description="Length of the rate-limit window in seconds.")
    lease_s: float = Field(default=120.0, description="A claimed job's lease; renewed by heartbeats.")
    heartbeat_s: float = Field(default=5.0, description="Interval of worker heartbeats and lease renewals.")
    max_attempts: int = Field(default=3, description="Attempts before a job ends in error.")
    worker_concurrency: int = Field(default=1, description="Grading slots per worker process, all on grader.device.")
    devices: str = Field(
        default="",
        description="Comma-separated devices, one worker slot each (overrides grader.device and "
        "worker_concurrency), e.g. cuda:0,cuda:1.",
    )
    data_profile: str = Field(default="bundled", description="MNIST profile the grader uses: bundled or full.")
    seed: int = Field(default=0, description="Grading seed.")
    select: str = Field(default="", description="Comma-separated check globs (empty = all checks).")
    poll_s: float = Field(default=0.5, description="Worker idle polling interval.")
    worker_stale_s: float = Field(default=30.0, description="/readyz fails when no worker heartbeat this recent.")
    sqlite_busy_timeout_ms: int = Field(default=5000, description="SQLite busy_timeout.")
    db_ready_timeout_s: float = Field(default=2.0, description="Time /readyz gives the database to answer.")
    grade_function: str = Field(default="grader.api:grade_files", description="The grading function, 'module:name'.")
    port: int = Field(
        default=8000,
        description="Port of the API: the container's entrypoint and health check, python -m service.demo.",
    )
    worker_nice: int = Field(default=10, description="Niceness of worker processes: grading yields to the API.")
    shutdown_grace_s: float = Field(default=30.0, description="On SIGTERM, time to finish running jobs.")
    log_level: str = Field(default="INFO", description="Log level of the JSON logs.")
    auth_cache_s: float = Field(default=5.0, description="How long a process remembers a token (rotation delay).")
    run_migrations: bool = Field(default=True, description="Apply Alembic migrations when the app starts.")

    @field_validator("*", mode="before")
    @classmethod
    def _nested_settings_read_their_own_variables(cls, value: object, info: ValidationInfo) -> object:
        """A nested settings class given as a dict (``VITGRADE_GRADER__*``, ``Settings(grader={...})``) is built
        with it as arguments, so it still reads its own variables (``VITGRADE_DEVICE``...) for the other fields."""
        annotation = cls.model_fields[info.field_name].annotation if info.field_name else None
        if isinstance(value, dict) and isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            return annotation(**value)
        return value

    @field_validator("devices")
    @classmethod
    def _known_devices(cls, value: str) -> str:
        try:
            return ",".join(parse_devices(value)) if value.strip() else ""
        except DeviceError as error:
            raise ValueError(str(error)) from None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'vitgrade.sqlite3').resolve()}"

    @property
    def resolved_storage_dir(self) -> Path:
        return (self.storage_dir or self.var_dir / "uploads").resolve()

    @property
    def slot_devices(self) -> list[str]:
        """One device per grading slot."""
        if self.devices:
            return parse_devices(self.devices)
        return [str(parse_device(self.grader.device))] * max(1, self.worker_concurrency)

    @property
    def select_globs(self) -> list[str] | None:
        globs = [g.strip() for g in self.select.split(",") if g.strip()]
        return globs or None


@lru_cache
def get_settings() -> Settings:
    return Settings()
