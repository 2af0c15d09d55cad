"""``python -m grader.student_kit build OUT_DIR | fixtures PATH [--grading-seed N]``."""

import argparse
import logging
import sys
from pathlib import Path

from grader.student_kit.build import build_fixtures
from grader.student_kit.public import public_seed
from grader.student_kit.wheel import build_wheel

log = logging.getLogger("grader.student_kit")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.student_kit", description=__doc__)
    parser.add_argument("what", choices=["build", "fixtures"], help="the wheel, or only the fixtures file")
    parser.add_argument("path", type=Path, help="the wheel's directory, or the fixtures file")
    parser.add_argument("--grading-seed", type=int, default=0, help="the seed the service scores with (default 0)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    seed = public_seed(args.grading_seed)
    if args.what == "build":
        log.info("wrote %s (kit seed %d)", build_wheel(args.path, seed), seed)
    else:
        build_fixtures(args.path, seed)
        log.info("wrote %s (kit seed %d)", args.path, seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
