"""Hostile submissions that try to earn Q2/Q4 points with the harness's trusted stand-ins: none may.

The stand-ins (``grader/sandbox/harness.py``) sit in the child's memory where a submission can find them.
The harness refuses a module that runs their code where it did not place it, and a stand-in computes only
while the harness has armed it for the request it placed it in.
"""

import pytest
from checks_support import InProcessSandbox, grade

from grader.sandbox import Sandbox
from reference.bundle import bundle_submission

REFERENCE = bundle_submission()
FIND = """
import sys as _sys


def _standins():
    for _module in list(_sys.modules.values()):
        _names = getattr(_module, "__dict__", {})
        if "standin_classes" in _names and "Harness" in _names:
            return _names["standin_classes"](torch)
    raise RuntimeError("no harness found")
"""
ASSIGNED = (
    FIND
    + """
MultiHeadSelfAttention = _standins()["attention"]
MLP = _standins()["mlp"]
"""
)
DELEGATING = (
    FIND
    + """

class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.q, self.k, self.v, self.proj = (nn.Linear(embed_dim, embed_dim) for _ in range(4))

    def forward(self, x):
        return _standins()["attention"].forward(self, x)


class MLP(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1, self.act = nn.Linear(in_features, hidden_features), nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)

    def forward(self, x):
        inner = _standins()["mlp"](self.fc1.in_features, self.fc1.out_features)
        inner.load_state_dict(self.state_dict())
        return inner(x)
"""
)
STASHING = """
_STASH = []


class TransformerBlock(TransformerBlock):
    def forward(self, x):
        _STASH.append(self.attn)  # the grader's stand-in, while Q5 runs
        return super().forward(x)


class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def forward(self, x):
        if _STASH:
            inner = _STASH[-1]
            inner.load_state_dict(self.state_dict())
            return inner(x)
        return super().forward(x) * 0.0
"""
GRABS = {"assigned": ASSIGNED, "delegating": DELEGATING, "stashing": STASHING}


@pytest.mark.parametrize("attack", sorted(GRABS))
def test_a_grabbed_stand_in_earns_nothing(attack):
    source = REFERENCE + GRABS[attack]
    box = InProcessSandbox(source)
    try:
        if attack == "stashing":
            assert grade("q5.equivalence", box, source).status == "passed"  # the stash is filled here
        verdicts = {c: grade(c, box, source) for c in ("q4.equivalence", "q4.property", "q4.extra")}
        if attack != "stashing":
            verdicts.update({c: grade(c, box, source) for c in ("q2.equivalence", "q2.property")})
    finally:
        box.close()
    assert {c: v.fraction for c, v in verdicts.items()} == dict.fromkeys(verdicts, 0.0), {
        c: v.message for c, v in verdicts.items()
    }
    if attack == "assigned":
        assert "run the grader's stand-in code, not yours" in verdicts["q4.equivalence"].message


def test_the_real_sandbox_refuses_an_assigned_stand_in():
    source = REFERENCE + ASSIGNED
    with Sandbox(source, device="cpu", seed=0) as box:
        q4 = grade("q4.equivalence", box, source)
        q5 = grade("q5.equivalence", box, source)
    assert q4.fraction == 0.0 and "stand-in code, not yours" in q4.message
    assert q5.fraction == 1.0, "the student's own block, with stand-ins the harness placed, is still graded"
