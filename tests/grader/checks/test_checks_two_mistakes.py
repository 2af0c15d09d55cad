"""Several known mistakes in one student file: each is caught and named by its own question's check."""

import inspect

import pytest
from checks_support import InProcessSandbox, grade

from grader.diagnostics import MISTAKES
from grader.diagnostics.catalog import Mistake
from reference.bundle import bundle_submission

FILES = [
    ("q2.activation_after_output", "q4.softmax_before_scaling"),
    ("q3.softmax_before_scaling", "q6.probabilities"),
    ("q4.block_diagonal_projections", "q6.mean_pooling"),
    ("q3.no_projection", "q4.no_projection", "q6.pos_embed_patches_first_rows"),
    ("q2.relu", "q5.post_norm", "q6.pos_embed_patches_only"),
]


def with_mistakes_source(mistakes: list[Mistake]) -> str:
    """The reference bundle with each mistake written in and bound to its contract name right after its class
    (two variants may share a class name, e.g. Q3's and Q4's NoProjection)."""
    lines = ["", ""]
    for mistake in mistakes:
        chain = [
            c for c in reversed(mistake.variant.__mro__) if issubclass(c, mistake.target) and c is not mistake.target
        ]
        lines += [inspect.getsource(c) for c in chain]
        lines.append(f"{mistake.target.__name__} = {mistake.variant.__name__}\n")
    return bundle_submission() + "\nimport math\nimport torch.nn.functional as F\n" + "\n".join(lines)


@pytest.mark.parametrize("ids", FILES, ids=["+".join(f) for f in FILES])
def test_each_mistake_is_named_in_its_own_question(ids):
    source = with_mistakes_source([MISTAKES[i] for i in ids])
    box = InProcessSandbox(source)
    try:
        for mistake_id in ids:
            mistake = MISTAKES[mistake_id]
            verdict = grade(f"{mistake.question.lower()}.equivalence", box, source)
            assert verdict.status == "failed", (mistake_id, verdict.message)
            known = verdict.details["known_mistakes"]
            if mistake.question in ("Q5", "Q6"):  # a composite may also name a sub-module's mistake with it
                assert any(mistake_id in diagnosis for diagnosis in known), (mistake_id, verdict.hint)
            else:
                assert known == [[mistake_id]], (mistake_id, verdict.hint)
            assert mistake.name in verdict.hint
    finally:
        box.close()
