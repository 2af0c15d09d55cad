#!/usr/bin/env bash
# Install, then start the grading service (API + one worker) on the embedded defaults:
# SQLite under ./var, the bundled MNIST subset. Prints the URL and a demo student token.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m service.demo "$@"
