"""The grader's settings: one pydantic-settings class, read from ``VITGRADE_*`` environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from grader.sandbox.limits import SandboxLimits
from grader.timing import TimingSettings
from reference.mnist import default_data_dir


class GraderSettings(BaseSettings):
    """Where the data and caches live, which device to use, and how long a submission may take.

    Every field can be set from the environment, e.g. ``VITGRADE_DEVICE=cuda`` or
    ``VITGRADE_SUBMISSION_BUDGET_S=900``; nested limits as ``VITGRADE_LIMITS='{"request_timeout_s": 60}'``.
    """

    model_config = SettingsConfigDict(env_prefix="VITGRADE_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="MNIST root (holds bundled/ and full/)")
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "vitgrade",
        description="cached reference accuracies and the Q8 test checkpoint",
    )
    device: str = Field(default="auto", description="default device: cpu, cuda or auto")
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
