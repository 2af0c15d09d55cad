#!/usr/bin/env bash
# Install, then run the default test suite (fast tests; slow, docker, gpu and browser tests are
# behind markers: see README). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
exec .venv/bin/python -m pytest "$@"
