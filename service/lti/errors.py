"""Errors of the LTI push, each with a message an instructor can act on."""


class LtiError(Exception):
    """The push cannot run or was stopped; nothing after the failing step was sent."""


class KeyFileError(LtiError):
    """The tool's key file is missing, unreadable or not an RSA private key."""


class PlatformError(LtiError):
    """The platform answered with an error (after retries where they apply); carries the status and its message."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class NotConfigured(LtiError):
    """The registration is incomplete; the message names the settings to set."""
