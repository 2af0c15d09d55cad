"""What a local check says: passed or failed per check, the message and the hint; text or HTML.

``Results`` prints as compact text in a terminal and renders as a table in Jupyter (``_repr_html_``).
"""

import html
from dataclasses import dataclass, field
from typing import Any

SYMBOL = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}
COLOUR = {"passed": "#1a7f37", "failed": "#b35900", "error": "#cf222e"}


@dataclass(frozen=True)
class LocalResult:
    """One public check run on your code."""

    id: str  # e.g. "q3.equivalence"
    question: str  # "Q1".."Q6"
    category: str  # shape, equivalence, property
    status: str  # passed, failed, error
    fraction: float = 0.0  # share of the check's points these inputs would earn
    points: float = 0.0
    message: str = ""
    hint: str = ""
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Results:
    """The results of one or more questions' public checks, in the grader's order."""

    results: tuple[LocalResult, ...]
    submit_only: tuple[str, ...] = ()  # public checks of these questions that only the service runs

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def __iter__(self):  # noqa: ANN204 - iterate like a list
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, check_id: str) -> LocalResult:
        for result in self.results:
            if result.id == check_id:
                return result
        raise KeyError(check_id)

    def summary(self) -> str:
        done = sum(r.passed for r in self.results)
        return f"{done}/{len(self.results)} public checks passed locally"

    def __str__(self) -> str:
        lines = []
        for r in self.results:
            partial = f" ({r.fraction:.0%})" if r.status == "failed" and r.fraction > 0 else ""
            lines.append(f"{SYMBOL.get(r.status, r.status.upper()):5} {r.id}{partial}")
            if r.message:
                lines += [f"      {line}" for line in r.message.splitlines()]
            if r.hint:
                lines.append(f"      hint: {r.hint}")
        if self.submit_only:
            lines.append(f"LATER {', '.join(self.submit_only)}: checked when you submit.")
        lines.append(self.summary() + ". The service also runs hidden checks, Q7, Q8 and the written answers.")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            colour = COLOUR.get(r.status, "#57606a")
            text = html.escape(r.message).replace("\n", "<br>")
            hint = f"<br><i>hint:</i> {html.escape(r.hint)}" if r.hint else ""
            rows.append(
                f"<tr><td style='color:{colour};font-weight:bold'>{html.escape(r.status)}</td>"
                f"<td><code>{html.escape(r.id)}</code></td><td style='text-align:left'>{text}{hint}</td></tr>"
            )
        return (
            "<table><thead><tr><th>status</th><th>check</th><th>message</th></tr></thead><tbody>"
            + "".join(rows)
            + "".join(
                f"<tr><td>later</td><td><code>{html.escape(c)}</code></td><td>checked when you submit</td></tr>"
                for c in self.submit_only
            )
            + f"</tbody></table><p>{html.escape(self.summary())}.</p>"
        )
