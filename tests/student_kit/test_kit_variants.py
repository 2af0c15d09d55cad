"""Accepted variants (docs/accepted-variants.md) locally: a tanh GELU and LayerNorm eps=1e-6 pass the kit's
checks where they pass the grader's, with the grader's note."""

import pytest
from kit_support import Pair

from reference.bundle import bundle_submission

VARIANTS = {
    "tanh_gelu": ("self.act = nn.GELU()", 'self.act = nn.GELU(approximate="tanh")'),
    "eps_1e-6": ("nn.LayerNorm(embed_dim)", "nn.LayerNorm(embed_dim, eps=1e-6)"),
}


WHAT = {"tanh_gelu": "GELU with the tanh approximation", "eps_1e-6": "LayerNorm eps=1e-6"}


def _notes(details: dict) -> list[str]:
    """The notes of a check's details and of its configurations (the grader words the eps note from the eps it
    read; the kit, which recognises eps=1e-6 from the outputs, with the grader's wording for that case)."""
    return [*details.get("notes", []), *(n for case in details.get("cases", []) for n in case.get("notes", []))]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_an_accepted_variant_gets_the_graders_verdict_and_note(variant, kit_fixtures, tmp_path):
    old, new = VARIANTS[variant]
    source = bundle_submission()
    assert old in source
    pair = Pair(source.replace(old, new), tmp_path, kit_fixtures)
    noted = 0
    try:
        for check_id in ("q2.equivalence", "q5.equivalence", "q6.equivalence", "q2.property", "q5.property"):
            local, verdict = pair.local(check_id), pair.grader_verdict(check_id)
            assert (local.status, verdict.status) == ("passed", "passed"), (check_id, local.message, verdict.message)
            local_notes, graded_notes = _notes(local.details), _notes(verdict.details)
            assert bool(local_notes) <= bool(graded_notes), (check_id, local_notes, graded_notes)
            assert all(n.startswith(f"accepted variant: {WHAT[variant]}") for n in local_notes), local_notes
            noted += bool(local_notes)
    finally:
        pair.close()
    assert noted, "no local check named the accepted variant"
