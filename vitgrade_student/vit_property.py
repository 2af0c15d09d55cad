"""Q6's property check on your ViT: [CLS] at index 0 read by the head, pos_embed added, the final norm.

Three requests with edited reference weights: pos_embed[1:] zeroed (permuting the patches must not
change the logits), the weights as they are (it must), and every block's attn.proj and mlp.fc2
zeroed (the logits must be head(norm(cls_token + pos_embed[0]))). Each failed part costs a third.
"""

from collections.abc import Mapping
from typing import Any

from vitgrade_student.compare import CheckFailed, difference, fmt_config, require_shape
from vitgrade_student.fixtures import CheckData, Fixtures
from vitgrade_student.flows import answer


def q6_property(names: Mapping[str, Any], data: CheckData, fixtures: Fixtures) -> tuple[float, str, str, dict]:
    """(fraction, message, hint, figures); a CheckFailed when all three parts fail."""
    tol = data.tolerance
    zeroed_pos, as_is, identity_blocks = data.requests
    kwargs = zeroed_pos.args["kwargs"]
    config = {**kwargs, "patch_permutation": zeroed_pos.extra["patch_permutation"]}
    failures, figures = [], {}

    def logits(request: Any) -> Any:
        got = answer(names, request)["output"]
        require_shape(got, (request.inputs["input"].shape[0], 10), "ViT logits", config)
        return got

    got = logits(zeroed_pos)
    gap = float((got[:2] - got[2:]).abs().max())
    figures["pos_embed[1:] zeroed: change when patches are permuted"] = gap
    if gap > tol.atol + tol.rtol * float(got.abs().max()):
        failures.append(
            f"with pos_embed[1:] zeroed (only pos_embed[0] non-zero), permuting the patches changed the logits by "
            f"{gap:.3g}: [CLS] is not at index 0 (pos_embed[0] reached a patch) or the head reads a patch token"
        )

    got = logits(as_is)
    gap = float((got[:2] - got[2:]).abs().max())
    figures["learned pos_embed: change when patches are permuted"] = gap
    if gap <= 1e-3:
        failures.append(
            f"with a random pos_embed, permuting the patches changed the logits by only {gap:.3g}: the positional "
            "embedding is not added to the tokens"
        )

    got = logits(identity_blocks)
    diff = difference(got, identity_blocks.outputs["output"], tol)
    figures["blocks reduced to the identity: max abs error vs head(norm(cls + pos_embed[0]))"] = diff.max_abs_error
    if not diff.within:
        failures.append(
            "with every block's attn.proj and mlp.fc2 zeroed (pre-norm residual blocks become the identity), the "
            "logits should be head(norm(cls_token + pos_embed[0])) for every image; max abs error "
            f"{diff.max_abs_error:.3g} (tolerance {tol}): the head does not read the [CLS] token alone "
            "(mean pooling?) or the final norm is missing; if q5.property fails, fix the block first"
        )
    if not failures:
        return 1.0, "", "", figures
    message = f"ViT ({fmt_config(kwargs)}): " + "; ".join(failures) + "."
    hint = "Prepend [CLS] at index 0, add pos_embed to all N + 1 tokens, and classify from head(norm(x)[:, 0])."
    if len(failures) == 3:
        raise CheckFailed(message, hint=hint, details=figures)
    return (3 - len(failures)) / 3, message, hint, figures
