#!/usr/bin/env bash
# How long the container's CI form takes, cold: `docker run --rm --network none -v DIR:/submission:ro IMAGE
# grade /submission --format json`, a fresh container each run (nothing cached but what the image carries).
#
#   benchmarks/container_latency.sh [IMAGE] [RUNS]        # default vitgrade:latest, 3 runs
#   IMAGES="vitgrade:before vitgrade:after" benchmarks/container_latency.sh "" 3   # several images in turn
#   IMAGES="vitgrade:latest host" benchmarks/container_latency.sh "" 3   # the image against the cold CLI
#
# `host` stands for the cold CLI on this machine, the same grade without Docker: a fresh `$PYTHON -m grader`
# process from this checkout (PYTHON defaults to python3; the cache is $VITGRADE_CACHE_DIR or the grader's
# default, warmed by one untimed grade first), with the image's profile (bundled) and device (cpu).
#
# Grades the reference (python -m reference.bundle + reference/answers.md, expected 100) and the student
# template (expected 0) RUNS times each and prints, per image and submission, the median wall time of
# `docker run` (container start, grade and exit), the median time of Q7's accuracy check and of Q8, the
# score, and the machine's load (uptime, and the 1-minute load at each run). Needs a Docker engine and the
# image (docker/smoke-test.sh builds one); python3 on the host does the arithmetic.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
IMAGES="${IMAGES:-${1:-vitgrade:latest}}"
RUNS="${2:-3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

first_image="${IMAGES%% *}"
[ "$first_image" != host ] || { echo "name an image before host in IMAGES" >&2; exit 2; }
mkdir -p "$WORK/reference" "$WORK/template"
docker run --rm --network none "$first_image" python -m reference.bundle >"$WORK/reference/vit.py"
cp "$ROOT/reference/answers.md" "$WORK/reference/answers.md"
cp "$ROOT/student_template/vit.py" "$ROOT/student_template/answers.md" "$WORK/template/"
chmod -R a+rX "$WORK"

# Runs are interleaved (run 1 of every image and submission, then run 2, ...) so that a change of load
# on the machine weighs on every image alike.
grade_once() { # image submission -> the JSON report on stdout
    if [ "$1" = host ]; then
        (cd "$ROOT" && PYTHONPATH="$ROOT" "${PYTHON:-python3}" -m grader "$WORK/$2/vit.py" "$WORK/$2/answers.md" \
            --format json --device cpu --data-profile bundled)
    else
        docker run --rm --network none -v "$WORK/$2":/submission:ro "$1" grade /submission --format json
    fi
}
case " $IMAGES " in *" host "*) grade_once host reference >/dev/null 2>&1 || true ;; esac

echo "load before: $(uptime)"
for run in $(seq "$RUNS"); do
    for image in $IMAGES; do
        for submission in reference template; do
            began=$(date +%s.%N)
            status=0
            grade_once "$image" "$submission" >"$WORK/report.json" 2>"$WORK/stderr" || status=$?
            ended=$(date +%s.%N)
            times="$WORK/times-${image//[^a-zA-Z0-9]/_}-$submission"
            python3 - "$WORK/report.json" "$began" "$ended" "$status" >>"$times" <<'PY'
import json, sys
path, began, ended, status = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
try:
    report = json.load(open(path))
except ValueError:
    print(f"{ended - began:.1f} nan nan nan exit{status}")
    sys.exit(0)
seconds = {c["id"]: c["duration_s"] for c in report["checks"]}
q8 = sum(v for k, v in seconds.items() if k.startswith("q8."))
print(f"{ended - began:.1f} {seconds.get('q7.accuracy', float('nan')):.1f} {q8:.1f} {report['score']:g} exit{status}")
PY
            echo "  run $run $image $submission: $(tail -1 "$times") (wall q7 q8 score exit; load $(cut -d' ' -f1 /proc/loadavg))"
        done
    done
done
echo "load after: $(uptime)"
for image in $IMAGES; do
    for submission in reference template; do
        python3 - "$image" "$submission" "$WORK/times-${image//[^a-zA-Z0-9]/_}-$submission" <<'PY'
import statistics, sys
image, submission, path = sys.argv[1:]
rows = [line.split() for line in open(path) if line.strip()]
wall, q7, q8 = (statistics.median(float(r[i]) for r in rows) for i in range(3))
scores = sorted({r[3] for r in rows})
print(f"{image:<24} {submission:<10} median of {len(rows)}: wall {wall:5.1f} s, q7.accuracy {q7:5.1f} s, "
      f"q8 {q8:4.1f} s, score {'/'.join(scores)}")
PY
    done
done
