"""Fill a grader cache with what a cold grade would otherwise compute: Q7's reference baselines and Q8's checkpoint.

    bake.py --into /opt/vitgrade/cache --profiles bundled --device cpu --seeds 0 --manifest baked.json
    bake.py --check [--into DIR]          # every baseline in DIR has the key this grader computes now

Baking grades the reference bundle with ``python -m grader --select q7.accuracy 'q8.*'`` (the grader's own
code, CLI and settings, nothing rebuilt here), so the files it leaves are exactly those a grade of a
student would look up: ``baseline/<digest>.json`` keyed by device, data profile, recipe (seed included),
torch, timm, the grader's code and the reference's source, and ``q8/*.safetensors`` named by timm's
version. The build fails when the reference does not earn every point of those checks.

``--check`` reads every baked baseline back and compares its stored key with the key the grader in this
image computes for the same device, profile and seed (``grader.baseline.cache_key`` with the recipe of
``grader.checks.q7_accuracy.recipe_for``): a stale entry would be ignored and retrained at grading time.
"""

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger("vitgrade.bake")
CHECKS = ("q7.accuracy", "q8.*")


def grade_reference(into: Path, device: str, profile: str, seed: int) -> dict:
    """The JSON report of the reference graded on Q7's accuracy and Q8, with ``into`` as the cache."""
    from reference.bundle import bundle_submission

    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp) / "vit.py"
        module.write_text(bundle_submission(), encoding="utf-8")
        command = [sys.executable, "-m", "grader", str(module), "--select", *CHECKS, "--format", "json"]
        command += ["--device", device, "--data-profile", profile, "--seed", str(seed)]
        env = {**os.environ, "VITGRADE_CACHE_DIR": str(into)}
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(
            f"grading the reference ({device}/{profile}/seed {seed}) exited {result.returncode}: "
            f"{result.stderr[-2000:]}"
        )
    report = json.loads(result.stdout)
    lost = [
        f"{c['id']}: {c['status']} {c['score']:g}/{c['max_score']:g} {c['message'][:200]}"
        for c in report["checks"]
        if c["score"] < c["max_score"]
    ]
    if not report["succeeded"] or not report["checks"] or lost:
        raise SystemExit(
            f"the reference did not earn every point of {', '.join(CHECKS)} on {device}/{profile}: "
            + ("; ".join(lost) or report.get("message", ""))
        )
    return report


def baked_files(into: Path) -> list[dict]:
    """Every file of the cache, with its size: what the image carries."""
    return [
        {"path": str(path.relative_to(into)), "bytes": path.stat().st_size}
        for path in sorted(into.rglob("*"))
        if path.is_file() and not path.name.endswith(".partial")
    ]


def bake(into: Path, device: str, profiles: list[str], seeds: list[int]) -> dict:
    """Grade the reference once per (profile, seed) into ``into``; the manifest of what was baked."""
    entries = []
    for profile in profiles:
        for seed in seeds:
            report = grade_reference(into, device, profile, seed)
            accuracy = next(c for c in report["checks"] if c["id"] == "q7.accuracy")["details"]
            entries.append(
                {
                    "device": report["environment"]["device"],
                    "data_profile": profile,
                    "seed": seed,
                    "reference_accuracy": accuracy.get("reference_accuracy"),
                    "suite_sha256": report["environment"]["suite_sha256"],
                }
            )
            log.info(
                "baked %s/%s seed %d: reference accuracy %s", device, profile, seed, entries[-1]["reference_accuracy"]
            )
    return {"baselines": entries, "files": baked_files(into)}


def check(into: Path) -> list[str]:
    """One line per baked baseline, ``current`` or ``stale`` with the fields whose value differs."""
    from grader.baseline import Baseline, cache_key
    from grader.checks.q7_accuracy import recipe_for

    lines = []
    for path in sorted((into / "baseline").glob("*.json")):
        stored = Baseline.model_validate_json(path.read_text()).key
        now = cache_key(
            stored["device"], stored["data_profile"], recipe_for(stored["data_profile"], stored["recipe"]["seed"])
        )
        differs = sorted(name for name in set(now) | set(stored) if now.get(name) != stored.get(name))
        where = f"{stored['device']}/{stored['data_profile']}/seed {stored['recipe']['seed']} {path.name}"
        lines.append(f"stale {where}: {', '.join(differs)} differ" if differs else f"current {where}")
    return lines + checkpoint_lines(into)


def checkpoint_lines(into: Path) -> list[str]:
    """Q8's checkpoint and its MNIST adaptation, under the names this image's timm looks for."""
    from grader.checks.q8_timm import checkpoint_path

    path = checkpoint_path(into)
    return [
        f"{'current' if candidate.is_file() else 'missing'} q8 {candidate.relative_to(into)}"
        for candidate in (path, path.with_suffix(".mnist.safetensors"))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bake.py", description=__doc__.splitlines()[0])
    parser.add_argument("--into", type=Path, default=None, help="the cache to fill (default $VITGRADE_CACHE_DIR)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (a GPU must be visible)")
    parser.add_argument("--profiles", default="bundled", help="comma-separated data profiles: bundled, full")
    parser.add_argument("--seeds", default="0", help="comma-separated grading seeds (the service's VITGRADE_SEED)")
    parser.add_argument("--manifest", type=Path, help="write what was baked here (JSON)")
    parser.add_argument("--check", action="store_true", help="compare every baked key with this grader's")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    into = args.into or Path(os.environ.get("VITGRADE_CACHE_DIR") or Path.home() / ".cache" / "vitgrade")
    if args.check:
        lines = check(into)
        print("\n".join(lines) or f"no baseline in {into / 'baseline'}")
        return 0 if lines and all(line.startswith("current") for line in lines) else 1
    profiles = [item for item in args.profiles.split(",") if item]
    seeds = [int(item) for item in args.seeds.split(",") if item]
    manifest = bake(into, args.device, profiles, seeds)
    if args.manifest:
        args.manifest.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
