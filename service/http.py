"""uvicorn's httptools protocol with a cap on the request line and headers: 431 once they pass it.

uvicorn reads headers without limit on httptools (h11 caps them at 16 KiB), so one request with a
200 MiB header would be buffered whole. Run the API with
``uvicorn --http service.http:HeaderCappedProtocol ...`` (the container's ``serve`` does). The cap is
``VITGRADE_MAX_HEADER_BYTES`` (32 KiB by default; nginx allows 4 x 8 KiB, Node.js 16 KiB).

Bytes are counted per ``data_received`` while the parser is still in a request's head: a chunk that
completes the head resets the count, so a body never counts, and a head may pass the cap by less
than one read (256 KiB at most) before the answer. The answer is a JSON 431, then the connection
stops reading, half-closes and is closed after ``LINGER_S`` so that the client can read the answer.
"""

import json
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.config import get_settings

log = logging.getLogger(__name__)
LINGER_S = 1.0


class HeaderCappedProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that answers 431 when a request's line and headers pass ``max_header_bytes``."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - uvicorn's own signature
        super().__init__(*args, **kwargs)
        self.max_header_bytes = get_settings().max_header_bytes
        self._in_head = True
        self._heads = 0  # heads completed on this connection
        self._head_bytes = 0
        self._refused = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._heads += 1
        self._head_bytes = 0
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        heads = self._heads
        super().data_received(data)
        if not self._in_head or self._heads != heads or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > self.max_header_bytes:
            self._refuse()

    def _refuse(self) -> None:
        self._refused = True
        detail = (
            f"Request headers too large: {self._head_bytes} bytes or more "
            f"(max {self.max_header_bytes} bytes for the request line and headers)."
        )
        log.warning("request headers too large", extra={"status": 431, "client": str(self.client)})
        body = json.dumps({"detail": detail}).encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            + b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )  # fmt: skip
        self.transport.pause_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_S, self.transport.close)
