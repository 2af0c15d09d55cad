"""vitgrade's grading service: FastAPI app, persistence, job queue and workers (never imports student code)."""
