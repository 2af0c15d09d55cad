"""Verdicts a TA would sign: partial credit per configuration, contract-adjacent code graded on its maths,
accepted variants, and no points for a module that ignores its input."""

import engine_sources as src
import pytest
from checks_support import InProcessSandbox, grade

from grader.checks.points import POINTS


@pytest.fixture(scope="module")
def graded():
    boxes: dict[str, tuple[InProcessSandbox, str]] = {}

    def run(parts: tuple[str, ...], check_id: str):
        key = "".join(parts)
        if key not in boxes:
            text = src.source(*parts)
            boxes[key] = (InProcessSandbox(text), text)
        box, text = boxes[key]
        return grade(check_id, box, text)

    yield run
    for box, _ in boxes.values():
        box.close()


def test_an_odd_embed_dim_costs_its_share_of_the_sinusoidal_check(graded):
    verdict = graded((src.EVEN_ONLY_PE,), "q6.sinusoidal")
    assert verdict.status == "failed" and verdict.fraction == pytest.approx(2 / 5)
    assert verdict.message.startswith("3 of 5 configurations fail")
    for n, d in ((10, 7), (1, 5), (65, 33)):
        assert f"sinusoidal_positional_encoding({n}, {d}) raised" in verdict.message
    cases = verdict.details["cases"]
    assert [c["passed"] for c in cases] == [True, True, False, False, False]
    assert all("error" in c for c in cases if not c["passed"]) and cases[0]["max_abs_error"] < 1e-5


def test_corners_that_fail_cost_their_share_and_are_all_listed(graded):
    verdict = graded((src.SQUEEZING_ATTENTION,), "q4.equivalence")
    assert verdict.status == "failed" and verdict.fraction == pytest.approx(2 / 4)
    assert "embed_dim=32, num_heads=8" in verdict.message and "embed_dim=24, num_heads=1" in verdict.message
    assert "embed_dim=64, num_heads=4" not in verdict.message
    assert [c["passed"] for c in verdict.details["cases"]] == [True, False, False, True]


@pytest.mark.parametrize(
    ("parts", "graded_on_maths", "contract_check", "says"),
    [
        ((src.BIASLESS_MLP,), ("q2.equivalence", "q2.property", "q5.end_to_end"), "q2.contract",
         "self.fc1 has no bias"),
        ((src.BIASLESS_QKV,), ("q4.equivalence", "q4.extra", "q4.property", "q6.end_to_end"), "q4.contract",
         "self.q has no bias"),
        ((src.SCALE_BUFFER,), ("q3.equivalence", "q3.property"), "q3.contract", "your SelfAttention has scale"),
        ((src.FUSED_QKV,), ("q4.equivalence", "q4.extra", "q4.property", "q5.end_to_end"), "q4.contract",
         "your self.qkv packs q, k and v in one nn.Linear"),
        ((src.FUSED_QKV_NO_BIAS,), ("q4.equivalence", "q4.property", "q6.end_to_end"), "q4.contract",
         "self.q has no bias"),
        ((src.PER_HEAD_MODULES,), ("q4.equivalence", "q4.extra", "q4.property", "q5.end_to_end"), "q4.contract",
         "hold one q per head"),
        ((src.PLAIN_NORMS,), ("q5.equivalence", "q5.property", "q5.end_to_end"), "q5.contract",
         "elementwise_affine=False"),
        ((src.BIASLESS_HEAD,), ("q6.equivalence", "q6.extra", "q6.property", "q6.parameters", "q6.end_to_end"),
         "q6.contract", "self.head has no bias"),
        ((src.UNSAVED_TABLE,), ("q6.equivalence", "q6.extra", "q6.parameters", "q6.end_to_end"), "q6.contract",
         "does not save the buffer pos_embed"),
    ],
)  # fmt: skip
def test_contract_adjacent_code_is_graded_on_its_maths(graded, parts, graded_on_maths, contract_check, says):
    for check_id in graded_on_maths:
        verdict = graded(parts, check_id)
        assert (verdict.status, verdict.fraction) == ("passed", 1.0), (check_id, verdict.message)
    verdict = graded(parts, contract_check)
    assert verdict.status == "failed" and says in verdict.message
    assert "Missing key" not in verdict.message and "Unexpected key" not in verdict.message
    assert POINTS[contract_check] <= 1, "the contract costs a small, separate check"


@pytest.mark.parametrize(
    "check_id", ["q5.equivalence", "q5.property", "q5.end_to_end", "q6.equivalence", "q6.property", "q6.end_to_end"]
)
def test_layer_norm_eps_1e6_passes_with_a_clear_margin(graded, check_id):
    verdict = graded((src.EPS_1E6,), check_id)
    assert (verdict.status, verdict.fraction) == ("passed", 1.0), verdict.message
    notes = " ".join(verdict.details.get("notes", []))
    assert "LayerNorm eps=1e-06" in notes
    for case in verdict.details.get("cases", []):
        assert case["max_abs_error"] < 1e-6, "compared with a reference built with the same eps: no margin eaten"


@pytest.mark.parametrize("check_id", ["q5.equivalence", "q5.property", "q5.end_to_end", "q6.end_to_end"])
def test_a_functional_layer_norm_with_eps_1e6_passes(graded, check_id):
    verdict = graded((src.FUNCTIONAL_EPS_1E6,), check_id)
    assert (verdict.status, verdict.fraction) == ("passed", 1.0), verdict.message


@pytest.mark.parametrize("check_id", ["q2.equivalence", "q2.property", "q5.end_to_end", "q6.end_to_end"])
def test_tanh_gelu_is_an_accepted_variant(graded, check_id):
    verdict = graded((src.TANH_GELU,), check_id)
    assert (verdict.status, verdict.fraction) == ("passed", 1.0), verdict.message
    assert "tanh approximation" in " ".join(verdict.details.get("notes", []))


@pytest.mark.parametrize(
    ("parts", "prefix"),
    [((src.CONSTANT_VIT,), "q6"), ((src.CONSTANT_BLOCK,), "q5"), ((src.CONSTANT_ATTENTION,), "q4")],
)
def test_a_module_that_ignores_its_input_earns_nothing_but_its_shape(graded, parts, prefix):
    checks = [c for c in POINTS if c.startswith(prefix + ".") and c not in (f"{prefix}.shape", "q6.sinusoidal")]
    verdicts = {c: graded(parts, c) for c in checks}
    assert {c: v.fraction for c, v in verdicts.items()} == dict.fromkeys(checks, 0.0), {
        c: v.message for c, v in verdicts.items()
    }
    assert graded(parts, f"{prefix}.shape").fraction == 1.0


def test_the_block_is_graded_when_the_attention_is_unfinished(graded):
    for check_id in ("q5.shape", "q5.equivalence", "q5.property", "q5.contract"):
        verdict = graded((src.UNFINISHED_ATTENTION,), check_id)
        assert (verdict.status, verdict.fraction) == ("passed", 1.0), (check_id, verdict.message)
    assert graded((src.UNFINISHED_ATTENTION,), "q4.equivalence").fraction == 0.0


def test_sub_modules_under_other_names_get_the_stand_ins_under_those_names(graded):
    verdict = graded((src.OWN_NAMES_BLOCK,), "q5.equivalence")
    assert (verdict.status, verdict.fraction) == ("passed", 1.0), verdict.message
    case = verdict.details["cases"][0]
    assert case["substituted"] == ["attention", "ffn"] and not case.get("substitution_fallback")
    assert "rename it to attn" in " ".join(verdict.details["notes"])
    contract = graded((src.OWN_NAMES_BLOCK,), "q5.contract")
    assert (
        contract.status == "failed"
        and "rename it to ffn" not in contract.message
        and "rename it to mlp" in (contract.message)
    )


def test_a_sub_module_of_the_student_s_own_class_falls_back_to_the_student_s_own_and_says_so(graded):
    """``self.attention = Attention(...)``, a class of its own: no stand-in can be told apart, so the block runs
    with its own attention, and says so."""
    verdict = graded((src.OWN_CLASS_BLOCK,), "q5.equivalence")
    assert (verdict.status, verdict.fraction) == ("passed", 1.0), verdict.message
    assert "attn" in verdict.details["cases"][0]["substitution_fallback"]
    assert "ran with your own" in " ".join(verdict.details["notes"])


def test_blocks_in_a_module_list_are_replaced_too(graded):
    for check_id in ("q6.equivalence", "q6.property", "q6.parameters", "q6.end_to_end"):
        verdict = graded((src.MODULE_LIST_VIT,), check_id)
        assert (verdict.status, verdict.fraction) == ("passed", 1.0), (check_id, verdict.message)
    substituted = graded((src.MODULE_LIST_VIT,), "q6.equivalence").details["cases"][0]["substituted"]
    assert substituted == ["patch_embed", "blocks.0", "blocks.1"]


@pytest.mark.parametrize("check_id", ["q5.end_to_end", "q6.end_to_end"])
def test_two_wrong_sub_modules_are_both_named_and_the_composite_is_not_blamed(graded, check_id):
    parts = (src.UNSCALED_ATTENTION, src.RELU_MLP)
    verdict = graded(parts, check_id)
    assert verdict.status == "failed"
    assert "is right; the difference comes from your multi-head attention (Q4) and your MLP (Q2)" in verdict.message
    assert verdict.details["known_mistakes"] == [["q2.relu", "q4.no_scaling"]]
    for own in ("q5.equivalence", "q5.property", "q6.equivalence", "q6.property"):
        assert graded(parts, own).fraction == 1.0, own


def test_an_accepted_variant_does_not_hide_the_cause_of_another_difference(graded):
    verdict = graded((src.TANH_GELU, src.UNSCALED_ATTENTION), "q5.end_to_end")
    assert verdict.status == "failed"
    assert "is right; the difference comes from your multi-head attention (Q4)." in verdict.message


def test_a_vit_that_does_not_pass_its_arguments_on_is_charged_in_q6(graded):
    for check_id in ("q6.parameters", "q6.end_to_end"):
        verdict = graded((src.IGNORED_MLP_RATIO,), check_id)
        assert verdict.status == "failed", check_id
    assert "does not pass its own arguments on" in graded((src.IGNORED_MLP_RATIO,), "q6.parameters").message
    assert graded((src.IGNORED_MLP_RATIO,), "q5.equivalence").fraction == 1.0


def test_a_block_that_does_not_pass_its_arguments_on_is_charged_in_q5(graded):
    for check_id in ("q5.contract", "q5.end_to_end"):
        verdict = graded((src.BLOCK_IGNORING_MLP_RATIO,), check_id)
        assert verdict.status == "failed", check_id
    assert "does not pass its own arguments on" in graded((src.BLOCK_IGNORING_MLP_RATIO,), "q5.contract").message


def test_an_encoding_with_a_batch_axis_is_graded_as_the_table(graded):
    verdict = graded((src.BATCHED_PE,), "q6.sinusoidal")
    assert (verdict.status, verdict.fraction) == ("passed", 1.0), verdict.message
    assert "graded as the (N, D) table" in " ".join(verdict.details["notes"])


def test_a_block_that_cannot_run_with_the_stand_ins_is_graded_with_its_own_and_says_so(graded):
    for check_id in ("q5.shape", "q5.equivalence", "q5.property", "q5.end_to_end"):
        verdict = graded((src.TUPLE_ATTENTION,), check_id)
        assert (verdict.status, verdict.fraction) == ("passed", 1.0), (check_id, verdict.message)
    case = graded((src.TUPLE_ATTENTION,), "q5.equivalence").details["cases"][0]
    assert "raised with the grader's stand-ins" in case["substitution_fallback"]["*"]
