"""Similarity report speed: a class of generated submissions (target: 500 submissions, ~150k code tokens, < 10 s).

The class mixes honest solutions (the reference and an independent solution, each renamed, reordered
and edited differently per student, then trimmed to a realistic length) with a few copy rings, so the
index holds both common and shared fingerprints. Prints the machine, its load, token and pair counts,
and the median wall time of ``--runs`` runs (code + answers), cold (first run in the process) and warm.

    python benchmarks/similarity.py [--students 500] [--runs 3] [--tokens-per-file 300]
"""

import argparse
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "service"))

from similarity_fixtures import independent_solution, reference_solution, renamed, reordered  # noqa: E402

from service.similarity import SimilarityParams, Source, code_tokens, load_template, similarity_report  # noqa: E402

WORDS = [
    "attention",
    "token",
    "patch",
    "image",
    "head",
    "layer",
    "norm",
    "residual",
    "class",
    "embedding",
    "position",
    "learned",
    "sinusoidal",
    "convolution",
    "receptive",
    "field",
    "global",
    "local",
    "quadratic",
    "cost",
    "memory",
    "sequence",
    "pretrained",
    "small",
    "dataset",
    "augmentation",
    "regularisation",
    "weights",
    "resolution",
    "channels",
    "interpolate",
]


def definitions(source: str) -> list[str]:
    """The module's top-level blocks (imports, classes, functions), each as text."""
    return re.split(r"\n(?=class |def )", source)


def student_file(rng: random.Random, pools: list[list[str]], keep_lines: int) -> str:
    """One honest student's file: each definition taken from one of the solutions, renamed, reordered and
    edited on about a third of its lines (as independent students write the same contract differently)."""
    chosen = [rng.choice(options) for options in zip(*pools, strict=False)]
    source = reordered(renamed("\n".join(chosen), seed=rng.randrange(10**6)), seed=rng.randrange(10**6))
    edited = []
    for line in source.splitlines():
        edited.append(line)
        if line.strip() and not line.rstrip().endswith((":", ",", "(", "\\")) and rng.random() < 0.35:
            indent = line[: len(line) - len(line.lstrip())]
            terms = " + ".join(f"v{rng.randrange(50)}" for _ in range(rng.randrange(1, 4)))
            edited.append(f"{indent}t{rng.randrange(1000)} = {terms}")
    source = "\n".join(edited[:keep_lines])
    while source:
        try:
            code_tokens(source)
            return source
        except ValueError:
            source = "\n".join(source.splitlines()[:-1])
    return source


def answer(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(30, 80)))


def make_class(students: int, tokens_per_file: int, seed: int = 0) -> list[Source]:
    rng = random.Random(seed)
    bases = [reference_solution(), independent_solution()]
    pools = [definitions(base) for base in bases]
    ratio = tokens_per_file / len(code_tokens(bases[0]))
    keep_lines = max(20, int(len(bases[0].splitlines()) * ratio * 1.3))
    sources = []
    for i in range(students):
        if i % 25 == 1:  # a copy ring: this student hands in the previous student's work, renamed
            code = renamed(sources[-1].code, seed=i)
            answers = dict(sources[-1].answers)
        else:
            code = student_file(rng, pools, keep_lines)
            answers = {q: answer(rng) for q in ("Q3", "Q4", "Q5", "Q6a", "Q6b", "Q6c", "Q7", "Q8a", "Q8d")}
        sources.append(Source(f"student{i:04d}", f"sub{i:04d}", code, answers))
    return sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--tokens-per-file", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    sources = make_class(args.students, args.tokens_per_file)
    template = load_template()
    tokens = sum(len(code_tokens(s.code)) for s in sources)
    words = sum(len(text.split()) for s in sources for text in s.answers.values())
    print(f"class: {len(sources)} submissions, {tokens} code tokens, {words} answer words")
    times = []
    for run in range(args.runs):
        load = os.getloadavg()[0]
        began = time.perf_counter()
        code, answers = similarity_report(sources, template, SimilarityParams())
        times.append(time.perf_counter() - began)
        print(
            f"run {run + 1}: {times[-1]:.2f} s (load {load:.2f}); code pairs {len(code.pairs)}, "
            f"clusters {len(code.clusters)}; answer pairs {len(answers.pairs)}"
        )
    warm = statistics.median(times[1:]) if len(times) > 1 else times[0]
    print(
        f"cold (first run) {times[0]:.2f} s, warm median {warm:.2f} s, median of all {statistics.median(times):.2f} s"
    )


if __name__ == "__main__":
    main()
