"""``python -m grader SUBMISSION ...``: see grader/cli.py."""

from grader.cli import main

raise SystemExit(main())
