#!/usr/bin/env bash
# End-to-end check of the image and compose.yaml on a machine with a Docker engine (CPU mode).
#
#   docker/smoke-test.sh                                   # build on python:3.11-slim, then test
#   BASE_IMAGE=vitgrade-base:bookworm docker/smoke-test.sh # build on the local base (build-local-base.sh)
#   SKIP_BUILD=1 IMAGE=vitgrade:smoke docker/smoke-test.sh # reuse an image
#
# Builds the image (MNIST=bundled unless MNIST=full), starts api + worker-cpu with
# compose.yaml + compose.cpu.yaml under a throw-away project name, issues a student token, submits the
# reference (python -m reference.bundle, plus its written answers when the reference has them) and the
# student template over HTTP, asserts full and zero marks, grades both with the CI form (docker run
# --network none ... grade DIR --format junit --fail-under N: exit 0 and 1), checks that a fresh container
# grades Q7 and Q8 from the image's baked cache (bake --check; no file computed into the cache), restarts
# the stack (down, up: same volumes) and checks that both submissions and their grades are still there, then tears everything down
# (volumes included; KEEP=1 keeps the stack for a look). Prints the build and test durations.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
IMAGE="${IMAGE:-vitgrade:smoke}"
BASE_IMAGE="${BASE_IMAGE:-python:3.11-slim}"
MNIST="${MNIST:-bundled}"
PROJECT="${PROJECT:-vitgrade-smoke-$$}"
GRADE_TIMEOUT_S="${GRADE_TIMEOUT_S:-1200}"
READY_TIMEOUT_S="${READY_TIMEOUT_S:-240}"
BUILD_NETWORK="${BUILD_NETWORK:-host}"
WORK="$(mktemp -d)"
started=$(date +%s)

log() { printf '[smoke %3ds] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
problems=()
# A wrong grade is recorded and the test goes on (restart, persistence); it fails at the end.
problem() { log "PROBLEM: $*"; problems+=("$*"); }

if docker compose version >/dev/null 2>&1; then
    compose_cmd=(docker compose)
elif command -v docker-compose >/dev/null; then
    compose_cmd=(docker-compose)
else
    fail "neither 'docker compose' (v2) nor docker-compose (v1) is installed"
fi
PORT="${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
BASE="http://127.0.0.1:$PORT"
export COMPOSE_PROJECT_NAME="$PROJECT" VITGRADE_IMAGE="$IMAGE" VITGRADE_HTTP_PORT="$PORT" VITGRADE_HTTP_BIND=127.0.0.1
export VITGRADE_WORKER_MEMORY="${VITGRADE_WORKER_MEMORY:-8g}"
compose() { "${compose_cmd[@]}" -f compose.yaml -f compose.cpu.yaml "$@"; }

teardown() {
    local status=$?
    if [ "$status" -ne 0 ]; then
        log "logs of the stack:"
        compose logs --no-color --tail=80 >&2 || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then
        log "KEEP=1: the stack $PROJECT is still up on $BASE"
    else
        compose down -v --remove-orphans >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap teardown EXIT

# --- build ------------------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building $IMAGE on $BASE_IMAGE (MNIST=$MNIST)"
    build_start=$(date +%s)
    docker build -f docker/Dockerfile --network "$BUILD_NETWORK" \
        --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg MNIST="$MNIST" \
        --build-arg GIT_COMMIT="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
        --build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        -t "$IMAGE" . >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; fail "docker build"; }
    log "image built in $(($(date +%s) - build_start)) s"
fi
docker image inspect "$IMAGE" >/dev/null || fail "no image $IMAGE"

# --- helpers ----------------------------------------------------------------------------------------
json() { python3 -c "import json, sys; data = json.load(sys.stdin); print(eval(sys.argv[1], {'d': data}))" "$1"; }

wait_ready() {
    local deadline=$(($(date +%s) + READY_TIMEOUT_S)) code
    while :; do
        code=$(curl -s -o "$WORK/ready.json" -w '%{http_code}' "$BASE/readyz" || true)
        [ "$code" = 200 ] && { log "ready: $(cat "$WORK/ready.json")"; return 0; }
        [ "$(date +%s)" -lt "$deadline" ] || fail "/readyz not 200 after ${READY_TIMEOUT_S}s (last: $code $(cat "$WORK/ready.json" 2>/dev/null))"
        sleep 3
    done
}

submit() { # files... -> submission id
    local args=() file
    for file in "$@"; do args+=(-F "files=@$file"); done
    curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" "${args[@]}" "$BASE/api/v1/submissions" \
        >"$WORK/created.json" || fail "submission refused: $(cat "$WORK/created.json")"
    json 'd["id"]' <"$WORK/created.json"
}

wait_graded() { # id -> prints the final status
    local id=$1 deadline=$(($(date +%s) + GRADE_TIMEOUT_S)) status
    while :; do
        curl -sS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/submissions/$id" >"$WORK/status.json"
        status=$(json 'd["status"]' <"$WORK/status.json")
        case "$status" in done | error) echo "$status"; return 0 ;; esac
        [ "$(date +%s)" -lt "$deadline" ] || fail "submission $id still $status after ${GRADE_TIMEOUT_S}s"
        sleep 5
    done
}

score_of() { # id -> "score max_score"
    curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/submissions/$1/report" >"$WORK/report-$1.json" \
        || fail "no report for $1: $(cat "$WORK/report-$1.json")"
    json '"%g %g" % (d["score"], d["max_score"])' <"$WORK/report-$1.json"
}

# --- the stack --------------------------------------------------------------------------------------
log "starting api + worker-cpu ($PROJECT on port $PORT, ${compose_cmd[*]})"
compose up -d --no-build api worker-cpu >/dev/null 2>&1 || { compose up -d --no-build api worker-cpu; fail "compose up"; }
wait_ready

TOKEN=$(compose exec -T api /opt/vitgrade/docker/entrypoint.sh roster add smoke-student 2>/dev/null |
    python3 -c 'import csv, sys; rows = list(csv.DictReader(sys.stdin)); print(rows[0]["token"])')
[ -n "$TOKEN" ] || fail "no token from roster add"
log "student token issued"

mkdir -p "$WORK/reference" "$WORK/template"
compose exec -T api python -m reference.bundle >"$WORK/reference/vit.py"
reference_files=("$WORK/reference/vit.py")
if compose exec -T api test -f /opt/vitgrade/app/reference/answers.md; then
    compose exec -T api cat /opt/vitgrade/app/reference/answers.md >"$WORK/reference/answers.md"
    reference_files+=("$WORK/reference/answers.md")
fi
cp student_template/vit.py student_template/answers.md "$WORK/template/"

reference_id=$(submit "${reference_files[@]}")
template_id=$(submit "$WORK/template/vit.py" "$WORK/template/answers.md")
log "submitted reference=$reference_id template=$template_id"

grading_start=$(date +%s)
[ "$(wait_graded "$reference_id")" = done ] || fail "reference ended in error: $(cat "$WORK/status.json")"
[ "$(wait_graded "$template_id")" = done ] || fail "template ended in error: $(cat "$WORK/status.json")"
log "both graded in $(($(date +%s) - grading_start)) s"

read -r ref_score ref_max <<<"$(score_of "$reference_id")"
read -r tpl_score tpl_max <<<"$(score_of "$template_id")"
log "reference $ref_score/$ref_max, template $tpl_score/$tpl_max"
python3 - "$WORK/report-$reference_id.json" <<'PY' || problem "the reference scored $ref_score/$ref_max, expected full marks"
import json, sys
report = json.load(open(sys.argv[1]))
lost = [f'{c["id"]}: {c["status"]} {c["score"]:g}/{c["max_score"]:g} {c.get("message", "")[:120]}'
        for c in report["checks"] if c["score"] < c["max_score"]]
if report["score"] != report["max_score"] or report["max_score"] <= 0 or not report["gradable"]:
    print("\n".join(lost) or report, file=sys.stderr)
    sys.exit(1)
PY
python3 -c 'import sys; sys.exit(float(sys.argv[1]) != 0 or float(sys.argv[2]) <= 0)' "$tpl_score" "$tpl_max" \
    || problem "the template scored $tpl_score/$tpl_max, expected 0"
isolation=$(json '",".join(d["environment"].get("isolation", []))' <"$WORK/report-$reference_id.json")
case ",$isolation," in
*,netns,*mountns,*) log "worker sandbox: $isolation" ;;
*) problem "the worker's sandbox lacks its namespaces (compose capabilities?): $isolation" ;;
esac

# --- CI use: docker run ... grade DIR --format junit --fail-under N (offline) --------------------------
ci_grade() { # dir fail_under -> exit status; the JUnit XML in $WORK/ci.xml
    local status=0
    docker run --rm --network none -v "$1":/submission:ro "$IMAGE" \
        grade /submission --format junit --select 'q1.*' --fail-under "$2" >"$WORK/ci.xml" 2>"$WORK/ci.err" || status=$?
    echo "$status"
}
status=$(ci_grade "$WORK/reference" 1)
python3 -c 'import sys, xml.etree.ElementTree as ET; cases = ET.parse(sys.argv[1]).getroot().iter("testcase"); sys.exit(not any(True for _ in cases))' \
    "$WORK/ci.xml" || problem "docker run grade --format junit wrote no JUnit test cases: $(head -c 300 "$WORK/ci.xml")"
[ "$status" = 0 ] || problem "docker run grade (reference, q1, --fail-under 1) exited $status, expected 0: $(tail -3 "$WORK/ci.err")"
status=$(ci_grade "$WORK/template" 1)
[ "$status" = 1 ] || problem "docker run grade (template, --fail-under 1) exited $status, expected 1"
log "CI form: docker run --network none ... grade DIR --format junit --fail-under N exits 0 / 1 as expected"

# --- the baked cache: a fresh container grades Q7 and Q8 without computing the baseline or the checkpoint ----
docker run --rm --network none "$IMAGE" bake --check --into /opt/vitgrade/cache >"$WORK/check.txt" 2>&1 \
    || problem "the image's baked keys are not the grader's: $(cat "$WORK/check.txt")"
docker run --rm --network none -v "$WORK/reference":/submission:ro "$IMAGE" shell -c '
    /opt/vitgrade/docker/entrypoint.sh grade /submission --select q7.accuracy "q8.*" --format json || exit $?
    cd "$VITGRADE_CACHE_DIR" && find . -type f ! -name "*.partial" -printf "computed %P\n" >&2' \
    >"$WORK/baked.json" 2>"$WORK/baked.err" || problem "grading Q7 and Q8 in the CI form failed: $(tail -3 "$WORK/baked.err")"
if grep -q '^computed ' "$WORK/baked.err"; then
    problem "a fresh container computed what the image should carry: $(grep '^computed ' "$WORK/baked.err" | tr '\n' ' ')"
else
    log "baked cache used: $(json '"Q7 reference %s" % [c for c in d["checks"] if c["id"] == "q7.accuracy"][0]["details"]["reference_accuracy"]' <"$WORK/baked.json"), nothing computed"
fi

# --- restart: nothing lost ----------------------------------------------------------------------------
log "restarting the stack (down, up; volumes kept)"
compose down >/dev/null 2>&1
compose up -d --no-build api worker-cpu >/dev/null 2>&1 || fail "compose up after down"
wait_ready
for pair in "$reference_id:$ref_score" "$template_id:$tpl_score"; do
    id=${pair%%:*}
    status=$(curl -sS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/submissions/$id" | json 'd["status"]')
    [ "$status" = done ] || fail "after the restart, $id is $status"
    read -r score _ <<<"$(score_of "$id")"
    [ "$score" = "${pair#*:}" ] || fail "after the restart, $id scores $score, was ${pair#*:}"
done
count=$(curl -sS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/submissions" | json 'len(d)')
[ "$count" = 2 ] || fail "after the restart the student has $count submissions, expected 2"
log "after the restart: token valid, 2 submissions, same grades"

if [ "${#problems[@]}" -gt 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s) after $(($(date +%s) - started)) s"
fi
log "PASS in $(($(date +%s) - started)) s (reference $ref_score/$ref_max, template $tpl_score/$tpl_max)"
