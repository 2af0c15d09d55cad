"""Worst-case cost of one submission: every hostile submission graded in full through the real grader.

Grades each attack of ``tests/hostile/`` (wired into the graded API as the hostile-grading tests do)
and a few slow or looping submissions: a forward that never returns in each class of the contract
(and in all of them at once), a sleep at import, a slow-but-finishing forward, a training loop that
never ends, a ``vit_small_for_mnist`` that never returns. Prints the wall time of each grade (the
median of ``--runs``) with the machine's load, then the worst case against the target (2 minutes of
a worker on the project's 2-core CPU).

    python benchmarks/worst_case.py [--runs 1] [--only NAME ...] [--device cpu] [--target 120]
"""

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "grader")]

from grader.api import grade_files  # noqa: E402
from reference.bundle import bundle_submission  # noqa: E402

CLASSES = ("PatchEmbedding", "MLP", "SelfAttention", "MultiHeadSelfAttention", "TransformerBlock", "ViT")
NEVER = "time.sleep(10**9)"


def _stuck_forward(name: str, body: str = NEVER) -> str:
    return f"\n\nclass {name}({name}):\n    def forward(self, *args, **kwargs):\n        {body}\n"


def extra_submissions() -> dict[str, str]:
    """Slow and looping submissions beyond the attacks: name -> source."""
    reference = bundle_submission() + "\n\nimport time\n"
    extra = {f"sleep_forward_{name}": reference + _stuck_forward(name) for name in CLASSES}
    everywhere = "".join(_stuck_forward(name) for name in CLASSES)
    everywhere += f"\n\ndef sinusoidal_positional_encoding(num_tokens, embed_dim):\n    {NEVER}\n"
    everywhere += f"\n\ndef vit_small_for_mnist(*args, **kwargs):\n    {NEVER}\n"
    extra["sleep_everywhere"] = reference + everywhere
    extra["sleep_at_import"] = reference + f"\n{NEVER}\n"
    extra["slow_forward"] = reference + "".join(
        _stuck_forward(name, "time.sleep(0.05)\n        return super().forward(*args, **kwargs)") for name in CLASSES
    )
    extra["training_never_ends"] = reference + _stuck_forward(
        "ViT", f"if self.training:\n            {NEVER}\n        return super().forward(*args, **kwargs)"
    )
    extra["sleep_vit_small"] = reference + f"\n\ndef vit_small_for_mnist(*args, **kwargs):\n    {NEVER}\n"
    return extra


def hostile_submissions() -> dict[str, str]:
    """The attacks of tests/hostile/, each wired into the graded API like the hostile-grading tests."""
    spec = importlib.util.spec_from_file_location("hostile_cases", ROOT / "tests" / "hostile" / "cases.py")
    cases = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("hostile_cases", cases)
    spec.loader.exec_module(cases)
    from test_hostile_grading import ACTIVATE  # the same wiring as the tests

    out = {}
    for case in cases.CASES:
        source = case.source()
        if case.name in ACTIVATE:
            source += "\n\n" + ACTIVATE[case.name] + "\n"
        out[f"attack_{case.name}"] = source
    return out


def grade_seconds(source: str, answers: Path, device: str, folder: Path) -> tuple[float, str]:
    """Wall time of one full grade, and a one-line summary of the report."""
    module = folder / "vit.py"
    module.write_text(source)
    began = time.perf_counter()
    report = grade_files([module, answers], device=device, data_profile="bundled", seed=0)
    seconds = time.perf_counter() - began
    slowest = max(report.checks, key=lambda c: c.duration_s)
    summary = f"score {report.score:g}/{report.max_score:g}, succeeded={report.succeeded}, "
    return seconds, summary + f"slowest {slowest.id} {slowest.duration_s:.1f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="grades per submission; the median is reported")
    parser.add_argument("--only", nargs="+", default=[], help="names to run (default: all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--target", type=float, default=120.0, help="seconds no submission may exceed")
    args = parser.parse_args()
    submissions = {"reference": bundle_submission(), **hostile_submissions(), **extra_submissions()}
    if args.only:
        submissions = {name: source for name, source in submissions.items() if name in args.only}
    answers = ROOT / "reference" / "answers.md"
    print(f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {args.runs} run(s)")
    print(f"load at start: {os.getloadavg()}")
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="vitgrade-worst-") as tmp:
        for name, source in submissions.items():
            runs = [grade_seconds(source, answers, args.device, Path(tmp)) for _ in range(args.runs)]
            times[name] = statistics.median(seconds for seconds, _ in runs)
            load = os.getloadavg()[0]
            print(f"{name:<36} {times[name]:7.1f} s  (load {load:.2f})  {runs[-1][1]}", flush=True)
    worst = max(times, key=times.get)
    print(f"load at end: {os.getloadavg()}")
    verdict = "within" if times[worst] <= args.target else "OVER"
    print(f"worst case: {worst} {times[worst]:.1f} s ({verdict} the {args.target:g} s target)")


if __name__ == "__main__":
    main()
