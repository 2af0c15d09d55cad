"""A running job's progress as numbers: checks done of the total, and a short label (the check and its status).

The worker turns the grader's callback ``progress(check_id, done, total, status)`` into a ``Progress``; the
heartbeat stores it in the job's ``progress_done``, ``progress_total`` and ``progress_label`` columns; the
API returns the numbers and the page draws them (no text to parse anywhere).
"""

from dataclasses import dataclass

LABEL_CHARS = 128


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` checks (``total`` 0 when unknown) and what is happening now."""

    done: int = 0
    total: int = 0
    label: str = ""

    @classmethod
    def of(cls, done: int, total: int, label: str = "") -> "Progress":
        """Clamped to ``0 <= done <= total`` and a label that fits its column."""
        total = max(0, int(total))
        done = min(max(0, int(done)), total) if total else max(0, int(done))
        return cls(done, total, " ".join(label.split())[:LABEL_CHARS])

    @property
    def columns(self) -> dict[str, int | str]:
        """The job's columns for this progress."""
        return {"progress_done": self.done, "progress_total": self.total, "progress_label": self.label}

    @property
    def text(self) -> str:
        """For people and logs: '3/10 q2.shape passed', or the label alone when there is no total."""
        count = f"{self.done}/{self.total}" if self.total else ""
        return " ".join(part for part in (count, self.label) if part)


DONE = Progress(label="done")
GRADER_FAULT = Progress(label="grader fault")
HANDED_BACK = Progress(label="handed back")
