"""The sandbox as the checks see it: each request under its derived limit, and a component that timed out
is never waited for again.

Once a student's component does not return in time (``ViT``'s forward in ``q6.shape``, say), every later
request that needs it fails at once with "skipped: your ViT's forward did not return within 10 s in
q6.shape" instead of waiting out its own limit: a forward timeout marks the class or function for every op,
a training timeout only the training. All the module requests of a submission (its sandbox starts and
restarts included, Q7's training not) share one budget (``RequestLimits.module_budget_s``); once it is
spent, Q7's training is skipped too. The memory of
timeouts and the budget are shared by the visible checks' sandbox and the hidden checks' fresh one.
"""

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from grader.sandbox.errors import SandboxTimeout
from grader.timing import RequestLimits


class ComponentTimedOut(Exception):
    """A request needs a component that already timed out, or the module budget is spent: not sent."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Timeout:
    """One component that did not return: what it was, its limit, and the check that found it."""

    what: str
    seconds: float
    check_id: str


@dataclass
class GuardState:
    """What the guards of one submission share: timed-out components and the time its module requests used."""

    limits: RequestLimits
    timeouts: dict[tuple[str, str], Timeout] = field(default_factory=dict)  # (component, op or "*") -> timeout
    module_spent_s: float = 0.0

    def charge(self, seconds: float) -> None:
        """Count time the submission's own code used outside a request (a sandbox start, say)."""
        self.module_spent_s += seconds


def component_of(op: str, args: dict[str, Any]) -> tuple[str, str, str]:
    """(component, op key, words for the student) of a request."""
    name = str(args.get("name", "")) if isinstance(args, dict) else ""
    if op == "forward":
        return name, "*", f"{name}'s forward"
    if op == "call":
        return name, "*", name
    if op == "train":
        return "ViT", op, "ViT's training (Q7's recipe)"
    if op == "predict":
        return "ViT", "*", "ViT's forward"
    if op == "timm":
        return "vit_small_for_mnist", "*", "vit_small_for_mnist model"
    return op, "*", op


class GuardedSandbox:
    """Wraps a ``Sandbox``: same attributes, but ``request`` is limited and skips timed-out components."""

    def __init__(self, box: Any, state: GuardState):
        self._box = box
        self._state = state
        self.check_id = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._box, name)

    def request(
        self,
        op: str,
        args: dict[str, Any] | None = None,
        tensors: dict[str, torch.Tensor] | None = None,
        timeout: float | None = None,
    ):
        """``Sandbox.request`` under the derived limit; raises ``ComponentTimedOut`` instead of waiting again."""
        args = args or {}
        state = self._state
        component, key, what = component_of(op, args)
        earlier = state.timeouts.get((component, "*")) or state.timeouts.get((component, key))
        if earlier is not None:
            raise ComponentTimedOut(
                f"skipped: your {earlier.what} did not return within {earlier.seconds:g} s in {earlier.check_id}"
            )
        limit = state.limits.for_request(op, args, tensors)
        if timeout is not None:
            limit = min(limit, timeout)
        training = op == "train"
        budget_cut = False
        left = state.limits.module_budget_s - state.module_spent_s
        if left <= 0:  # code this slow would not finish Q7's training either
            raise ComponentTimedOut(f"skipped: {self._used_up()}")
        if not training:
            limit, budget_cut = min(limit, left), left < limit
        began = time.monotonic()
        try:
            return self._box.request(op, args, tensors, timeout=limit)
        except SandboxTimeout as error:
            if budget_cut:  # stopped by the submission's budget, not by this request's own limit
                raise ComponentTimedOut(f"stopped: {self._used_up()}") from None
            if error.seconds > 0:
                state.timeouts[(component, key)] = Timeout(what, round(error.seconds, 1), self.check_id)
            raise
        finally:
            if not training:
                state.module_spent_s += time.monotonic() - began

    def _used_up(self) -> str:
        budget = self._state.limits.module_budget_s
        return f"your code used up the {budget:g} s that all of this submission's module checks may take together"
