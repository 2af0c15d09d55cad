#!/usr/bin/env bash
# The GPU acceptance run: every GPU check and benchmark in one go (at most ~8 minutes on one GPU), with a
# summary in OUTDIR (summary.json, summary.txt). Every step also runs on the CPU; CI runs it there:
#
#   scripts/gpu-acceptance.sh OUTDIR                      # on cuda
#   scripts/gpu-acceptance.sh OUTDIR --device cpu --quick # the CPU smoke run of the same script
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
    echo "usage: scripts/gpu-acceptance.sh OUTDIR [--device cuda|cuda:N|cpu] [--quick] [--skip STEP ...]" >&2
    exit 2
fi
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
exec "$PYTHON" scripts/acceptance.py "$@"
