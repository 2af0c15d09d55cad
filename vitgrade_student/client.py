"""The service's student API over the standard library (urllib): upload, follow, fetch the report.

``POST /api/v1/submissions`` (multipart field ``files``), ``GET /api/v1/submissions/{id}`` (status:
queued with position, running with progress, done or error) and ``GET /api/v1/submissions/{id}/report``.
Every call carries ``Authorization: Bearer <token>``; an error answer becomes ``SubmitError`` with the
service's own explanation (``{"detail": ...}``).
"""

import json
import mimetypes
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class SubmitError(RuntimeError):
    """The service refused or could not be reached; the message says what to do."""


class Client:
    """One service address and one token."""

    def __init__(self, url: str, token: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - the course's URL
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read()).get("detail", "")
            except (ValueError, AttributeError):
                detail = ""
            retry = error.headers.get("Retry-After")
            wait = f" (retry after {retry} s)" if retry else ""
            raise SubmitError(f"{method} {path}: HTTP {error.code}{wait}: {detail or error.reason}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise SubmitError(f"cannot reach the service at {self.url}: {error}") from None

    def upload(self, files: list[Path]) -> dict[str, Any]:
        """POST the files as one submission; the 202 answer (id, position, links)."""
        boundary = "vitgrade-" + secrets.token_hex(12)
        parts = []
        for path in files:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n'
                f"Content-Type: {kind}\r\n\r\n"
            )
            parts += [head.encode(), path.read_bytes(), b"\r\n"]
        parts.append(f"--{boundary}--\r\n".encode())
        return self._call("POST", "/api/v1/submissions", b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def status(self, submission_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/submissions/{submission_id}")

    def report(self, submission_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/submissions/{submission_id}/report")
