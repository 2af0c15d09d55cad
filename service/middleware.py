"""ASGI middleware: a cap on request bodies (413 before parsing) and a request counter for ``/metrics``."""

import json
from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, from Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int, requests: Counter):
        self.app = app
        self.max_bytes = max_bytes
        self.requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        exceeded = False

        async def counting_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # the app turned our signal into its own error: answer 413 instead, once
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._reject(send, 413, self._too_large(seen))
                    self.requests["413"] += 1
                return
            if message["type"] == "http.response.start":
                started = True
                self.requests[str(message["status"])] += 1
            await send(message)

        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await self._reject(counting_send, 400, "Invalid Content-Length header.")
                return
            if declared > self.max_bytes:
                await self._reject(counting_send, 413, self._too_large(declared))
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, counting_send)
        except BodyTooLarge:
            if not started:
                started = True
                self.requests["413"] += 1
                await self._reject(send, 413, self._too_large(seen))

    def _too_large(self, size: int) -> str:
        return f"Request too large: {size} bytes or more (max {self.max_bytes} bytes per request)."

    @staticmethod
    async def _reject(send: Send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
