"""vitgrade's grader: runs a submission in a sandbox against the lab's checks and builds the report."""

__version__ = "0.1.0"
