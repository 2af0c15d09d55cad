"""The kit's local checks give the grader's verdicts: the reference passes all, the template fails all
(never an error), and each known mistake fails the same checks, named the same way where the kit can."""

import re
from pathlib import Path

import pytest
from checks_support import check_for, mistake_source
from kit_support import Pair

from grader.diagnostics import MISTAKES
from grader.student_kit.public import kit_checks, public_checks
from reference.bundle import bundle_submission
from student_template import vit as template_module
from vitgrade_student.checks import CHECKS, SUBMIT_ONLY

PUBLIC = [spec.id for spec in kit_checks()]  # the public checks the kit replays, the only ones compared here


def test_every_public_check_runs_locally_or_is_listed_as_checked_when_you_submit(kit_fixtures):
    every = [spec.id for spec in public_checks()]
    assert list(CHECKS) == PUBLIC == [c for c in every if c not in SUBMIT_ONLY]
    assert set(SUBMIT_ONLY) <= set(every), sorted(set(SUBMIT_ONLY) - set(every))
    assert list(kit_fixtures.checks) == PUBLIC


def test_reference_passes_every_local_check_as_it_passes_the_grader(kit_fixtures, tmp_path):
    pair = Pair(bundle_submission(), tmp_path, kit_fixtures)
    try:
        for check_id in PUBLIC:
            local, verdict = pair.local(check_id), pair.grader_verdict(check_id)
            assert (local.status, verdict.status) == ("passed", "passed"), (check_id, local.message)
            assert local.seconds < 2.0, (check_id, local.seconds)
    finally:
        pair.close()


def test_template_fails_every_local_check_with_the_graders_message(kit_fixtures, tmp_path):
    source = Path(template_module.__file__).read_text()
    pair = Pair(source, tmp_path, kit_fixtures)
    try:
        for check_id in PUBLIC:
            local, verdict = pair.local(check_id), pair.grader_verdict(check_id)
            assert local.status == "failed" and verdict.status == "failed", (check_id, local.message)
            assert local.message.startswith("not implemented yet: ")
            assert (local.message, local.hint) == (verdict.message, verdict.hint), check_id
    finally:
        pair.close()


def _checks_of(mistake_id: str) -> list[str]:
    """The public checks of the mistake's question, and the Q5/Q6 equivalence checks that contain it."""
    question = MISTAKES[mistake_id].question.lower()
    return [c for c in PUBLIC if c.startswith(question + ".") or c in ("q5.equivalence", "q6.equivalence")]


@pytest.mark.parametrize("mistake_id", sorted(MISTAKES))
def test_a_known_mistake_gets_the_graders_verdicts_and_name(mistake_id, kit_fixtures, tmp_path):
    mistake = MISTAKES[mistake_id]
    pair = Pair(mistake_source(mistake), tmp_path, kit_fixtures)
    try:
        for check_id in _checks_of(mistake_id):
            local, verdict = pair.local(check_id), pair.grader_verdict(check_id)
            assert local.status == verdict.status, (check_id, local.message, verdict.message)
            graded = verdict.details.get("known_mistakes")
            if graded and local.details.get("known_mistakes") == graded:
                assert local.hint == verdict.hint, check_id
            elif graded is not None:  # the grader needed a pair of mistakes, or the reference's code
                assert "Submit for a full diagnosis" in local.hint, (check_id, local.hint, verdict.hint)
        first = pair.local(check_for(mistake))
        assert first.status == "failed"
        assert first.details["known_mistakes"] == [[mistake_id]], first.hint
        assert first.hint.startswith("Your output matches") and mistake.name in first.hint
    finally:
        pair.close()


WITH_STAND_INS = {c for c in PUBLIC if c.split(".")[0] in ("q5", "q6") and c != "q6.sinusoidal"}
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _same_message(check_id: str, local: str, graded: str) -> bool:
    """Equal messages; where stand-ins run, the kit's attention is torch's own and the grader's is written out:
    the same maths, so the printed figures may differ in their last digit only."""
    if check_id not in WITH_STAND_INS:
        return local == graded
    figures = lambda text: NUMBER.sub(lambda m: f"{float(m.group()):.4g}", text)  # noqa: E731
    return figures(local) == figures(graded)


@pytest.mark.slow
@pytest.mark.parametrize("mistake_id", sorted(MISTAKES))
def test_a_known_mistake_gets_the_graders_message_on_every_public_check(mistake_id, kit_fixtures, tmp_path):
    """Stricter than the verdicts: at the kit's seed, the very message, hint and share of the points."""
    pair = Pair(mistake_source(MISTAKES[mistake_id]), tmp_path, kit_fixtures)
    try:
        for check_id in PUBLIC:
            local, verdict = pair.local(check_id), pair.grader_verdict(check_id)
            assert local.status == verdict.status, (check_id, local.message, verdict.message)
            assert _same_message(check_id, local.message, verdict.message), (check_id, local.message, verdict.message)
            assert local.fraction == pytest.approx(verdict.fraction), check_id
            if local.details.get("known_mistakes") == verdict.details.get("known_mistakes"):
                assert local.hint == verdict.hint, check_id
    finally:
        pair.close()
