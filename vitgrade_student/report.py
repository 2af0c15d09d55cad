"""The service's report, shown where you work: the score, per question, and what to fix (text or HTML)."""

import html
from dataclasses import dataclass
from typing import Any


def _points(value: Any) -> str:
    return f"{float(value or 0):g}"


@dataclass(frozen=True)
class SubmissionReport:
    """A graded submission's report (the service's JSON, student view) and how to show it."""

    id: str
    data: dict[str, Any]

    @property
    def score(self) -> float:
        return float(self.data.get("score", 0.0))

    @property
    def max_score(self) -> float:
        return float(self.data.get("max_score", 0.0))

    def not_passed(self) -> list[dict[str, Any]]:
        return [c for c in self.data.get("checks", []) if c.get("status") != "passed"]

    def __str__(self) -> str:
        lines = [f"submission {self.id}: {_points(self.score)} / {_points(self.max_score)}"]
        for q in self.data.get("questions", []):
            lines.append(f"  {q.get('id')}: {_points(q.get('score'))} / {_points(q.get('max_score'))}")
        for c in self.not_passed():
            score = f"{_points(c.get('score'))}/{_points(c.get('max_score'))}"
            lines.append(f"{c.get('status', '?').upper():7} {c.get('id')} ({score})")
            if c.get("message"):
                lines += [f"        {line}" for line in str(c["message"]).splitlines()]
            if c.get("hint"):
                lines.append(f"        hint: {c['hint']}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        questions = "".join(
            f"<tr><td>{html.escape(str(q.get('id')))}</td>"
            f"<td>{_points(q.get('score'))} / {_points(q.get('max_score'))}</td></tr>"
            for q in self.data.get("questions", [])
        )
        checks = "".join(
            f"<tr><td>{html.escape(str(c.get('status')))}</td><td><code>{html.escape(str(c.get('id')))}</code></td>"
            f"<td style='text-align:left'>{html.escape(str(c.get('message') or ''))}"
            + (f"<br><i>hint:</i> {html.escape(str(c['hint']))}" if c.get("hint") else "")
            + "</td></tr>"
            for c in self.not_passed()
        )
        return (
            f"<h4>Submission {html.escape(self.id)}: {_points(self.score)} / {_points(self.max_score)}</h4>"
            f"<table><tr><th>question</th><th>score</th></tr>{questions}</table>"
            + (f"<table><tr><th>status</th><th>check</th><th>message</th></tr>{checks}</table>" if checks else "")
        )
