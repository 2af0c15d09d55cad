"""What a local check needs besides the requests: facts recovered from the recorded inputs, and the
outputs of the known mistakes on the same weights and inputs (trusted side)."""

import torch
from torch import nn

from grader.checks.conformance import DEPENDS_ATOL
from grader.checks.fitting import outputs_of
from grader.checks.variants import applicable_variants
from grader.diagnostics import applicable, with_mistakes
from grader.diagnostics.catalog import for_function
from grader.student_kit.recording import Recorded
from reference.mlp import MLP
from reference.multi_head_attention import MultiHeadSelfAttention
from reference.patch_embedding import PatchEmbedding
from reference.self_attention import SelfAttention
from reference.transformer_block import TransformerBlock
from reference.vit import ViT

REFERENCE_CLASSES: dict[str, type[nn.Module]] = {
    cls.__name__: cls for cls in (PatchEmbedding, MLP, SelfAttention, MultiHeadSelfAttention, TransformerBlock, ViT)
}


def token_permutation(batch: torch.Tensor) -> list[int]:
    """perm with batch[1] == batch[0][:, perm] (the permutation-and-mixing request's input)."""
    perm = [int((batch[0] == row).all(dim=-1).nonzero()[0]) for row in batch[1]]
    if not torch.equal(batch[1], batch[0][perm]):
        raise RuntimeError("the permutation request's input is not [x, x[:, perm], ...]")
    return perm


def changed_patches(images: torch.Tensor, patch: int) -> list[list[int]]:
    """(row, column) of the one patch each image after the first changes (Q1's property request)."""
    found = []
    for image in images[1:]:
        where = (image != images[0]).nonzero()[:, -2:]  # (changed pixels, 2): row, column
        cells = {(int(r) // patch, int(c) // patch) for r, c in where}
        if len(cells) != 1:
            raise RuntimeError(f"Q1's property request changes {len(cells)} patches per image, expected one")
        found.append(list(cells.pop()))
    return found


def zeroed_branches(record: Recorded) -> list[str]:
    """Which of attn.proj, mlp.fc2 the Q5 property request zeroed."""
    return [p for p in ("attn.proj", "mlp.fc2") if not record.inputs[f"state.{p}.weight"].any()]


def _loaded_reference(record: Recorded) -> nn.Module:
    args = record.args
    reference = REFERENCE_CLASSES[args["name"]](**args["kwargs"])
    reference.load_state_dict({k[6:]: v for k, v in record.inputs.items() if k.startswith("state.")}, strict=True)
    return reference.eval()


def accepted_variants(record: Recorded) -> list[dict[str, object]]:
    """The accepted variants (docs/accepted-variants.md: tanh GELU, LayerNorm eps 1e-6) of the reference on the
    request's weights and input: their note, output, and input gradient for ``grad_output`` when it has one."""
    found: list[dict[str, object]] = []
    x = record.inputs["input"]
    for accepted, module in applicable_variants(_loaded_reference(record)):
        if "grad_output" in record.inputs:
            output, grad = outputs_of(module, x, record.inputs["grad_output"])
            found.append({"note": accepted.note, "output": output.contiguous(), "input_grad": grad.contiguous()})
        else:
            with torch.no_grad():
                found.append({"note": accepted.note, "output": module(x).contiguous()})
    return found


def module_variants(record: Recorded) -> dict[str, torch.Tensor]:
    """mistake id -> the output of the reference with that mistake, on the request's weights and input."""
    reference = _loaded_reference(record)
    found = {}
    for mistake in applicable(reference):
        try:
            with torch.no_grad():
                found[mistake.id] = with_mistakes(reference, [mistake])(record.inputs["input"]).contiguous()
        except Exception:  # noqa: BLE001, S112 - a variant that cannot run here is not a candidate
            continue
    return found


def function_variants(record: Recorded) -> dict[str, torch.Tensor]:
    """mistake id -> the sinusoidal table of that mistake at the request's (num_tokens, embed_dim)."""
    n, d = record.args["args"]
    found = {}
    for mistake in for_function():
        try:
            found[mistake.id] = mistake.function(n, d).float().contiguous()
        except Exception:  # noqa: BLE001, S112 - undefined here (e.g. odd d): not a candidate
            continue
    return found


def annotate(check_id: str, records: list[Recorded]) -> None:
    """Add to ``records`` (in place) the facts and variants the local check of ``check_id`` reads; probes
    (requests without an input, which only read the module's parameter set) carry none."""
    records = [record for record in records if record.op != "forward" or "input" in record.inputs]
    if check_id in ("q3.property", "q4.property"):
        records[0].extra["permutation"] = token_permutation(records[0].inputs["input"])
    elif check_id == "q1.property":
        records[0].extra["patches"] = changed_patches(records[0].inputs["input"], patch=7)
    elif check_id == "q5.property":
        for record in (r for r in records if not r.args.get("load_state")):  # does the output depend on x?
            record.extra["depends_atol"] = DEPENDS_ATOL
        for record in (r for r in records if r.args.get("load_state")):
            zeroed = zeroed_branches(record)
            form = "the identity: y = x" if len(zeroed) == 2 else "y = x + MLP(LN_2(x))"
            record.extra.update(zeroed=zeroed, label=" and ".join(zeroed) + " zeroed", form=form)
    if check_id == "q6.sinusoidal":
        for record in records:
            record.extra["variants"] = function_variants(record)
    elif check_id.endswith(".equivalence") or check_id == "q2.property":
        for record in records:
            if record.args.get("load_state") and "input" in record.inputs:
                record.extra["variants"] = module_variants(record)
                record.extra["accepted"] = accepted_variants(record)
