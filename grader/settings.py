"""The grader's settings: one pydantic-settings class, read from ``VITGRADE_*`` environment variables.

The grader runs alone (``python -m grader``) with ``GraderSettings()``; inside the service the same object
is ``Settings.grader`` (``service/config.py``). Both read the same variables, by one rule (docs/configuration.md):

- a field is ``VITGRADE_<FIELD>`` (``VITGRADE_DEVICE=cuda``, ``VITGRADE_CACHE_DIR=/var/cache/vitgrade``);
- a field of a nested model is ``VITGRADE_<FIELD>__<SUBFIELD>`` (``VITGRADE_LIMITS__MEMORY_BYTES=4294967296``),
  or the whole model as JSON (``VITGRADE_LIMITS='{"request_timeout_s": 60}'``);
- ``VITGRADE_GRADER__<FIELD>`` (the path of the field in the service's settings) is accepted too and wins
  over the short name.
"""

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from grader.devices import DeviceError, parse_device
from grader.sandbox.limits import SandboxLimits
from grader.sandbox.process import SLOTS, UID_BASE
from grader.timing import TimingSettings
from reference.mnist import default_cache_dir, unconfigured_data_dir

ENV_PREFIX = "VITGRADE_"
NESTED_DELIMITER = "__"
NESTED_PREFIX = f"{ENV_PREFIX}GRADER{NESTED_DELIMITER}"  # the field's path in the service: Settings.grader


class GraderSettings(BaseSettings):
    """Where the data and caches live, which device to use, how long a submission may take, and where its
    sandbox runs (uid range, extra hidden paths)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter=NESTED_DELIMITER, extra="ignore")

    data_dir: Path = Field(
        default_factory=unconfigured_data_dir,
        description="MNIST root (holds bundled/ and full/); hidden from the child",
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="cached reference accuracies (baseline/) and the Q8 test checkpoint (q8/); hidden from the child",
    )
    device: str = Field(
        default="auto",
        description="device of a grade: cpu, cuda, cuda:N or auto (cuda when torch sees a GPU); in the service, "
        "the device of every worker slot unless VITGRADE_DEVICES lists one per slot",
    )
    limits: SandboxLimits = Field(default_factory=SandboxLimits, description="resource limits of the sandboxed child")
    timing: TimingSettings = Field(
        default_factory=TimingSettings, description="request limits as multiples of the reference's measured time"
    )
    submission_budget_s: float = Field(
        default=900.0, gt=0, description="wall-clock budget of one whole grade; later checks are skipped past it"
    )
    accuracy_timeout_s: float = Field(
        default=90.0,
        gt=0,
        description="most wall-clock time of the Q7 training request (bundled profile; the reference needs 5-25 s "
        "on a 2-core CPU); below it, the limit is a multiple of the reference's time (``timing``)",
    )
    accuracy_timeout_full_s: float = Field(
        default=1800.0, gt=0, description="wall-clock limit of the Q7 training request (full profile)"
    )
    log_bytes: int = Field(default=16 * 1024, gt=0, description="the submission's log kept in the report")
    sandbox_uid_base: int = Field(
        default=UID_BASE,
        ge=1000,
        le=2**31 - SLOTS,
        description="first uid of the sandbox children (root only): uid = base + slot, 1,000 slots; containers "
        "on one host that do not share /run need disjoint ranges (e.g. 60000, 61000)",
    )
    sandbox_hide: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="more directories the child must not see, besides the repository, the grader's home, the "
        "data dir and the cache dir",
    )

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        try:
            return str(parse_device(value))
        except DeviceError as error:
            raise ValueError(str(error)) from None

    @field_validator("sandbox_hide", mode="before")
    @classmethod
    def _path_list(cls, value: object) -> object:
        """``a:b:c`` (as in the environment) or a list."""
        if isinstance(value, str):
            return [item for item in value.split(os.pathsep) if item.strip()]
        return value

    def hidden_paths(self) -> list[Path]:
        """What these settings add to the directories a sandboxed child must never see."""
        return [self.cache_dir, self.data_dir, *self.sandbox_hide]

    def sandbox_placement(self) -> dict[str, Any]:
        """``Sandbox`` keyword arguments by these settings: its uid range and the directories it hides."""
        return {"uid_base": self.sandbox_uid_base, "hide": self.hidden_paths()}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then ``VITGRADE_GRADER__<FIELD>``, then ``VITGRADE_<FIELD>``, then the defaults."""
        nested = EnvSettingsSource(settings_cls, env_prefix=NESTED_PREFIX, env_nested_delimiter=NESTED_DELIMITER)
        return init_settings, nested, env_settings, dotenv_settings, file_secret_settings
