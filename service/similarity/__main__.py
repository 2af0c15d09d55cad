"""Similarity from the command line: over the service's database, or over files on disk.

python -m service.similarity run [--scope counted|all] [--archive] [--by NAME]    # stored, like the API
python -m service.similarity csv RUN_ID [--kind code|answers] [--anonymise]
python -m service.similarity import-archive --term 2025 DIR    # one file or folder per student in DIR
python -m service.similarity files PATH [PATH ...]            # no database: one file or folder per student
"""

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy import select

from grader.intake import IntakeError, load_submission
from service.config import get_settings
from service.db import Database
from service.migrate import upgrade
from service.models import ArchivedSubmission, SimilarityRun
from service.similarity import runs
from service.similarity.models import KindReport
from service.similarity.report import Source, similarity_report
from service.similarity.template import load_template
from service.storage import BlobStore


def read_student(path: Path) -> tuple[str | None, dict[str, str]]:
    """A student's work from a file (``.py``, ``.ipynb``, ``.zip``) or a folder of such files."""
    paths = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    submission = load_submission(paths)
    return submission.module_source, dict(submission.answers)


def summary(kind: KindReport | dict, top: int = 20) -> str:
    report = kind.model_dump() if isinstance(kind, KindReport) else kind
    lines = [f"{report['kind']}: {report['documents']} documents, {len(report['pairs'])} pairs"]
    for pair in report["pairs"][:top]:
        lines.append(
            f"  {pair['similarity']:.2f}  {pair['a']} ~ {pair['b']}  (coverage {pair['a_coverage']:.2f} / "
            f"{pair['b_coverage']:.2f}, longest {pair['longest_fragment']})"
        )
    lines += [f"  cluster: {', '.join(c['members'])}" for c in report["clusters"]]
    lines += [f"  not compared: {owner}: {why}" for owner, why in report["unreadable"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.similarity", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="compare the class's submissions and store the run")
    run.add_argument("--scope", choices=runs.SCOPES, default="counted")
    run.add_argument("--archive", action="store_true", help="also compare with earlier terms")
    run.add_argument("--by", default="cli", help="who started the run (stored with it)")
    export = sub.add_parser("csv", help="a stored run's pairs as CSV on stdout")
    export.add_argument("run_id")
    export.add_argument("--kind", choices=runs.KINDS, default="code")
    export.add_argument("--anonymise", action="store_true")
    archive = sub.add_parser("import-archive", help="import an earlier term (one file or folder per student)")
    archive.add_argument("--term", required=True)
    archive.add_argument("directory", type=Path)
    files = sub.add_parser("files", help="compare files on disk (one file or folder per student), no database")
    files.add_argument("paths", type=Path, nargs="+")
    files.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)

    if args.cmd == "files":
        return _files(args.paths, args.json)
    settings = get_settings()
    database = Database(settings)
    upgrade(database)
    try:
        if args.cmd == "run":
            with database.write_session() as session:
                stored = runs.start_run(
                    session,
                    BlobStore(settings.resolved_storage_dir),
                    created_by=args.by,
                    scope=args.scope,
                    include_archive=args.archive,
                )
                sys.stdout.write(f"run {stored.id} ({stored.duration_s:.1f} s)\n")
                sys.stdout.write(summary(stored.code_report) + summary(stored.answers_report))
        elif args.cmd == "csv":
            with database.session() as session:
                stored = session.get(SimilarityRun, args.run_id)
                if stored is None:
                    sys.stderr.write(f"No similarity run {args.run_id!r}.\n")
                    return 1
                sys.stdout.write(runs.pairs_csv(session, stored, args.kind, anonymise=args.anonymise))
        else:
            return _import_archive(database, args.term, args.directory)
    finally:
        database.dispose()
    return 0


def _files(paths: list[Path], as_json: bool) -> int:
    sources = []
    for path in paths:
        try:
            code, answers = read_student(path)
            sources.append(Source(path.stem, str(path), code, answers))
        except (IntakeError, OSError) as error:
            sources.append(Source(path.stem, str(path), None, problem=str(error)))
    code_report, answers_report = similarity_report(sources, load_template())
    if as_json:
        json.dump({"code": code_report.model_dump(), "answers": answers_report.model_dump()}, sys.stdout, indent=1)
    else:
        sys.stdout.write(summary(code_report) + summary(answers_report))
    return 0


def _import_archive(database: Database, term: str, directory: Path) -> int:
    imported = skipped = 0
    with database.write_session() as session:
        for path in sorted(directory.iterdir()):
            try:
                code, answers = read_student(path)
            except (IntakeError, OSError) as error:
                sys.stderr.write(f"skipped {path.name}: {error}\n")
                skipped += 1
                continue
            existing = session.scalar(
                select(ArchivedSubmission).where(ArchivedSubmission.term == term, ArchivedSubmission.owner == path.stem)
            )
            if existing is None:
                session.add(ArchivedSubmission(term=term, owner=path.stem, code=code or "", answers=answers))
            else:
                existing.code, existing.answers = code or "", answers
            imported += 1
    sys.stdout.write(f"imported {imported} submissions of term {term!r}; skipped {skipped}\n")
    return 0 if imported or not skipped else 1


if __name__ == "__main__":
    sys.exit(main())
