"""``python -m grader``: grade one submission (several files combined) and write the report.

Exit codes (binding): 0 when grading ran, whatever the score; 1 when the submission is not gradable
or, with ``--fail-under``, when the score is below it; 2 on a grader fault.
"""

import argparse
import logging
import sys
from pathlib import Path

from grader.api import grade_files
from grader.devices import DeviceError, parse_device
from grader.formats import FORMATS, render
from grader.report import Report
from grader.settings import GraderSettings

EXIT_OK, EXIT_NOT_GRADABLE, EXIT_GRADER_FAULT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description="Grade a ViT lab submission.")
    parser.add_argument(
        "submissions",
        nargs="+",
        type=Path,
        metavar="SUBMISSION",
        help=".py, .ipynb, .md (answers) or .zip; several files are combined",
    )
    parser.add_argument("--output", "-o", type=Path, help="write the report here instead of standard output")
    parser.add_argument("--format", choices=sorted(FORMATS), default="json", help="report format (default json)")
    parser.add_argument(
        "--select",
        action="extend",
        nargs="+",
        default=[],
        metavar="GLOB",
        help="keep only checks whose id matches a glob, e.g. 'q[1-6].*' '*.shape'",
    )
    parser.add_argument("--device", type=_device, help="cpu, cuda, cuda:N or auto (default: $VITGRADE_DEVICE or auto)")
    parser.add_argument("--data-profile", choices=("bundled", "full"), default="bundled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fail-under", type=float, metavar="SCORE", help="exit 1 when the score is below SCORE")
    parser.add_argument(
        "--student-view",
        action="store_true",
        help="leave out staff tracebacks and hidden checks' details (gradescope always does)",
    )
    parser.add_argument("--progress", action="store_true", help="show progress on stderr even when it is not a TTY")
    return parser


def stderr_progress(check_id: str, index: int, total: int, status: str) -> None:
    """One line per finished check on stderr (never stdout: stdout may be the report)."""
    if status != "running":
        sys.stderr.write(f"[{index}/{total}] {check_id}: {status}\n")
        sys.stderr.flush()


def exit_code(report: Report, fail_under: float | None) -> int:
    """The contract's exit code for a report."""
    if not report.succeeded:
        return EXIT_GRADER_FAULT
    if not report.gradable:
        return EXIT_NOT_GRADABLE
    if fail_under is not None and report.score < fail_under:
        return EXIT_NOT_GRADABLE
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    settings = GraderSettings()
    show_progress = args.progress or sys.stderr.isatty()
    report = grade_files(
        args.submissions,
        device=args.device or settings.device,
        data_profile=args.data_profile,
        seed=args.seed,
        select=args.select,
        progress=stderr_progress if show_progress else None,
        settings=settings,
    )
    text = render(report, args.format, student_view=args.student_view)
    try:
        if args.output:
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except OSError as error:
        sys.stderr.write(f"could not write the report: {error}\n")
        return EXIT_GRADER_FAULT
    if show_progress or args.output:
        sys.stderr.write(f"score {report.score:g} / {report.max_score:g}; {report.message}\n".replace("; \n", "\n"))
    return exit_code(report, args.fail_under)


def _device(text: str) -> str:
    """argparse type of ``--device``: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``, with the accepted forms on error."""
    try:
        return str(parse_device(text))
    except DeviceError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
