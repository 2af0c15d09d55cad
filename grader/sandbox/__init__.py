"""The sandbox: one isolated child process per submission, spoken to over pipes (docs/architecture.md)."""

from grader.sandbox.client import Reply, Sandbox
from grader.sandbox.errors import SandboxCrashed, SandboxError, SandboxTimeout, StudentError
from grader.sandbox.limits import SandboxLimits

__all__ = ["Reply", "Sandbox", "SandboxCrashed", "SandboxError", "SandboxLimits", "SandboxTimeout", "StudentError"]
