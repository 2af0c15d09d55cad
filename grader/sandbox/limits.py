"""Resource limits of one sandboxed child (docs/security.md lists them with the defenses)."""

from pydantic import BaseModel, Field

MIB = 1024 * 1024
GIB = 1024 * MIB


class SandboxLimits(BaseModel):
    """Limits enforced on the child; the defaults suit grading one submission on CPU."""

    request_timeout_s: float = Field(120.0, gt=0, description="wall-clock seconds one request may take")
    start_timeout_s: float = Field(
        60.0, gt=0, description="wall-clock seconds from a ready fork server to the child's hello (the grader's work)"
    )
    import_timeout_s: float = Field(20.0, gt=0, description="wall-clock seconds for importing the student's module")
    total_timeout_s: float = Field(1800.0, gt=0, description="wall-clock seconds for a whole submission")
    cpu_seconds: int = Field(1800, gt=0, description="RLIMIT_CPU of one child (all its threads), seconds")
    memory_bytes: int = Field(6 * GIB, gt=0, description="cgroup memory limit (no swap) of one child, where available")
    address_space_bytes: int | None = Field(
        24 * GIB, description="RLIMIT_AS on CPU only (CUDA maps far more); None disables it"
    )
    file_size_bytes: int = Field(256 * MIB, gt=0, description="RLIMIT_FSIZE: largest file the child may write")
    open_files: int = Field(256, gt=0, description="RLIMIT_NOFILE of the child")
    processes: int = Field(64, gt=0, description="RLIMIT_NPROC of the sandbox uid and cgroup pids.max (threads count)")
    workdir_bytes: int = Field(2 * GIB, gt=0, description="size of the child's private directory (tmpfs, root only)")
    tmpfs_bytes: int = Field(256 * MIB, gt=0, description="size of the private /tmp and /dev/shm (each)")
    log_bytes: int = Field(64 * 1024, gt=0, description="captured stdout/stderr kept; the rest is dropped and marked")
    header_bytes: int = Field(1 * MIB, gt=0, description="largest JSON header accepted from the child")
    payload_bytes: int = Field(512 * MIB, gt=0, description="largest tensor payload accepted from the child")
    torch_threads: int = Field(1, gt=0, description="torch.set_num_threads / OMP_NUM_THREADS in the child")
