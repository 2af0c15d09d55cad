"""Q6 check of the sinusoidal encoding PE(k, 2i) = sin(k / 10000^(2i/d)), PE(k, 2i+1) = cos(k / 10000^(2i/d))."""

from grader.checks import remote
from grader.checks.compare import Tolerance, difference, mismatch_message, require_shape
from grader.checks.context import CheckContext
from grader.checks.flows import configurations_outcome
from grader.checks.registry import CheckFailed, Outcome, check
from grader.diagnostics import diagnose_function, hint_from
from grader.sandbox.errors import StudentError
from reference.positional_encoding import sinusoidal_positional_encoding

PE_NAME = "sinusoidal_positional_encoding"
PE_TOL = Tolerance(atol=1e-5, rtol=0.0)  # values in [-1, 1]; float32 sin/cos of angles up to ~100 rad
PE_CONFIGS = [(17, 64), (50, 32), (10, 7), (1, 5), (65, 33)]  # (num_tokens, embed_dim), odd d included
PE_HINT = "PE(k, 2i) = sin(k / 10000^(2i/d)) on even columns, PE(k, 2i+1) = cos(k / 10000^(2i/d)) on odd ones."


@check("q6.sinusoidal", question="Q6", category="equivalence")
def sinusoidal(ctx: CheckContext) -> Outcome:
    """sinusoidal_positional_encoding(N, d) equals PE(k, 2i) = sin(k / 10000^(2i/d)), PE(k, 2i+1) = cos(...)."""
    tol = PE_TOL.on(ctx.device)
    tables, figures, failures, errors = {}, [], [], []
    for n, d in PE_CONFIGS:
        config = {"num_tokens": n, "embed_dim": d}
        try:
            got = remote.call(ctx, PE_NAME, n, d)
            batched = tuple(got.shape) == (1, n, d)  # the table with the batch axis pos_embed has: accepted
            got = got[0] if batched else got
            require_shape(got, (n, d), f"{PE_NAME}({n}, {d})", config)
        except StudentError as error:
            errors.append(error)
            failures.append(CheckFailed(f"{PE_NAME}({n}, {d}) raised {error.kind}: {error.message}"))
            figures.append({"config": config, "passed": False, "error": f"{error.kind}: {error.message}"})
            continue
        except CheckFailed as failure:
            failures.append(failure)
            figures.append({"config": config, "passed": False, "error": failure.message})
            continue
        tables[(n, d)] = got
        diff = difference(got, sinusoidal_positional_encoding(n, d), tol)
        figures.append({"config": config, "passed": diff.within, "tolerance": str(tol), **diff.as_details()})
        if batched:
            figures[-1]["notes"] = [f"returned shape (1, {n}, {d}), graded as the (N, D) table the contract returns."]
        if not diff.within:
            failures.append(CheckFailed(mismatch_message(f"{PE_NAME}({n}, {d})", diff, tol, config)))
    hint, matched = PE_HINT, []
    if failures and tables:
        configs = list(tables)
        diagnoses = diagnose_function(configs, [tables[c] for c in configs], sinusoidal_positional_encoding, tol)
        hint, matched = hint_from(diagnoses, "an encoding", PE_HINT)
    failures = [CheckFailed(f.message, hint=hint, details={"known_mistakes": matched}) for f in failures]
    return configurations_outcome(figures, failures, errors, len(PE_CONFIGS))
