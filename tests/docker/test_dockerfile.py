"""docker/Dockerfile against its build context: every file it copies passes .dockerignore's whitelist.

A source that .dockerignore leaves out fails the build at its COPY step, after the slow layers; this finds it
without a Docker engine.
"""

import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ignore_patterns() -> list[tuple[bool, str]]:
    """(included, pattern) in file order; the last pattern matching a path decides, as Docker does."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            included = line.startswith("!")
            patterns.append((included, line.lstrip("!").rstrip("/")))
    return patterns


def in_context(path: str) -> bool:
    """Whether ``path`` (relative to the repository root) reaches the build context."""
    decision = True
    for included, pattern in ignore_patterns():
        if fnmatch.fnmatchcase(path, pattern):
            decision = included
    return decision


def copied_sources() -> list[str]:
    """The sources of every COPY without --from (continuation lines joined)."""
    text = (ROOT / "docker" / "Dockerfile").read_text().replace("\\\n", " ")
    sources = []
    for line in text.splitlines():
        match = re.match(r"\s*COPY\s+(.*)", line)
        if match and "--from" not in match[1]:
            words = [word for word in match[1].split() if not word.startswith("--")]
            sources += words[:-1]
    return sources


def test_every_copied_source_is_in_the_build_context() -> None:
    sources = copied_sources()
    assert "docker/entrypoint.sh" in sources and "grader" in sources  # the parse found the COPY lines
    missing = [source for source in sources if not in_context(source) or not (ROOT / source).exists()]
    assert missing == [], f"COPY sources left out of the build context by .dockerignore (or absent): {missing}"


def test_the_whitelist_leaves_out_what_the_image_does_not_need() -> None:
    assert not in_context("tests")
    assert not in_context(".git")
    assert not in_context("benchmarks")
