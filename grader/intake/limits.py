"""Caps on what a submission may be: one place, so that the grader and the service apply the same limits."""

MAX_FILES = 8
"""Files in one submission (uploads, not zip members)."""

MAX_FILE_BYTES = 5 * 1024 * 1024
"""One uploaded file (a .py, .ipynb, .md or the .zip itself), in bytes."""

MAX_TOTAL_BYTES = 20 * 1024 * 1024
"""All uploaded files of one submission together, in bytes."""

MAX_ZIP_ENTRIES = 64
"""Entries (files and directories) in one zip archive."""

MAX_ZIP_ENTRY_BYTES = MAX_FILE_BYTES
"""One zip member once uncompressed, in bytes."""

MAX_ZIP_TOTAL_BYTES = 20 * 1024 * 1024
"""All members of one zip archive once uncompressed, in bytes."""

MAX_COMPRESSION_RATIO = 100
"""Uncompressed / compressed size of one member above which it is taken for a zip bomb."""

RATIO_CHECK_MIN_BYTES = 64 * 1024
"""Members smaller than this (uncompressed) are not held to the ratio: tiny files compress oddly."""

MAX_NOTES = 200
"""Dropped statements (and module warnings) recorded per submission; the rest are counted in one warning."""

MAX_ANSWER_CHARS = 8_000
"""One written answer (the text under one heading), in characters; a longer answer is graded on its start."""

MAX_NAME_LENGTH = 255
"""A file or member name, in characters."""


def format_bytes(size: int) -> str:
    """A size for people: '512 B', '3.2 KB', '5.0 MB' (powers of 1024)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
