#!/usr/bin/env bash
# The vitgrade image's one entrypoint.
#
#   serve   [uvicorn options]           the API and the student page on $VITGRADE_PORT (default 8000)
#   worker  [python -m service.worker options]   grade queued submissions
#   grade   SUBMISSION... [grader options]      python -m grader; a directory stands for its files (below)
#   roster  add|import|instructor|list ...      python -m service.roster (tokens)
#   migrate [revision]                   python -m service.migrate
#   mnist   fetch [--from DIR]           python -m reference.mnist (writes into $VITGRADE_DATA_DIR)
#   health  serve|worker                 the container healthcheck
#   bake    [--device cuda] [--profiles bundled,full] [--seeds 0] | --check   fill $VITGRADE_CACHE_DIR ahead
#           of grading (docker/bake.py); --check compares the baked keys with this grader's
#   backup > file.tar | restore [--force] < file.tar   the SQLite database and the uploads (docker/backup.py)
#   shell | bash | sh | python ...       anything else runs as given
#
# A directory given to `grade` is replaced by the files the grader should read from it: vit.py (else
# the only notebook at its top level) and answers.md when present; when it holds none of those, every
# top-level .py, .ipynb, .md and .zip file. Name files explicitly to choose others. Without
# --data-profile, `grade` uses the MNIST the image was built with ($VITGRADE_DATA_PROFILE).
#
# `grade` and `worker` first link what the image baked (Q7's reference baselines, Q8's checkpoint: the
# read-only $VITGRADE_BAKED_CACHE_DIR, default /opt/vitgrade/cache) into $VITGRADE_CACHE_DIR, one symbolic
# link per file that the cache does not hold yet (never over a file), so a fresh container retrains nothing.
set -euo pipefail
# Files the API (user vitgrade) and the worker (root, group vitgrade) share must stay group-writable.
umask 0002

# Records what this container runs, for `health` (the HEALTHCHECK has no other way to know).
role_file="${TMPDIR:-/tmp}/vitgrade-role"

expand_dir() {
    local dir="${1%/}" found=() name
    if [ -f "$dir/vit.py" ]; then
        found+=("$dir/vit.py")
    else
        local notebooks=()
        for name in "$dir"/*.ipynb; do [ -f "$name" ] && notebooks+=("$name"); done
        [ "${#notebooks[@]}" -eq 1 ] && found+=("${notebooks[0]}")
    fi
    [ -f "$dir/answers.md" ] && found+=("$dir/answers.md")
    if [ "${#found[@]}" -eq 0 ]; then
        for name in "$dir"/*.py "$dir"/*.ipynb "$dir"/*.md "$dir"/*.zip; do
            [ -f "$name" ] && found+=("$name")
        done
    fi
    if [ "${#found[@]}" -eq 0 ]; then
        echo "vitgrade: $dir holds no .py, .ipynb, .md or .zip file to grade" >&2
        exit 1
    fi
    echo "vitgrade: grading ${found[*]}" >&2
    printf '%s\0' "${found[@]}"
}

# SQLite creates its database file 0644 whatever the umask, and its -wal/-shm files with the same mode:
# the API (vitgrade) and the worker (root, group vitgrade) could then not both write. An empty file
# made here first, group-writable, is a valid empty database that both can open.
prepare_sqlite() {
    local url path
    url=$(python -c 'from service.config import get_settings; print(get_settings().resolved_database_url)') || return 0
    case "$url" in sqlite:///*) ;; *) return 0 ;; esac
    path="${url#sqlite:///}"
    [ -n "$path" ] && [ "$path" != ":memory:" ] || return 0
    mkdir -p "$(dirname "$path")" 2>/dev/null || true
    [ -e "$path" ] || touch "$path" 2>/dev/null || true
    for file in "$path" "$path-wal" "$path-shm"; do
        [ -O "$file" ] && chmod g+rw "$file" 2>/dev/null || true
    done
}

# Link every baked file that the cache lacks; drop links into a baked cache whose file is gone (a newer
# image baked other keys). A cache that cannot be written (a read-only container without a cache volume)
# is replaced by the baked directory itself: lookups find it, writes fail and are only logged.
seed_cache() {
    local baked="${VITGRADE_BAKED_CACHE_DIR:-/opt/vitgrade/cache}" cache="${VITGRADE_CACHE_DIR:-}" relative target
    [ -n "$cache" ] && [ -d "$baked" ] || return 0
    [ "$cache" -ef "$baked" ] && return 0
    mkdir -p "$cache" 2>/dev/null || true
    if [ ! -d "$cache" ] || [ ! -w "$cache" ]; then
        echo "vitgrade: $cache cannot be written; reading the baked cache $baked instead" >&2
        export VITGRADE_CACHE_DIR="$baked"
        return 0
    fi
    find "$cache" -xtype l -lname "$baked/*" -delete 2>/dev/null || true
    while IFS= read -r -d '' relative; do
        relative="${relative#./}"
        target="$cache/$relative"
        [ -e "$target" ] || [ -L "$target" ] && continue
        mkdir -p "$(dirname "$target")" 2>/dev/null && ln -s "$baked/$relative" "$target" 2>/dev/null || true
    done < <(cd "$baked" && find . -type f ! -name '*.partial' -print0)
}

grade() {
    local args=() arg expanded
    local takes_value='^--(output|format|select|device|data-profile|seed|fail-under)$'
    local previous=""
    for arg in "$@"; do
        if [ -d "$arg" ] && [[ ! "$previous" =~ $takes_value ]]; then
            mapfile -d '' expanded < <(expand_dir "$arg") || exit 1
            [ "${#expanded[@]}" -gt 0 ] || exit 1
            args+=("${expanded[@]}")
        else
            args+=("$arg")
        fi
        previous="$arg"
    done
    # The image's MNIST (full or bundled) is the default profile; --data-profile overrides it.
    if [[ " ${args[*]} " != *" --data-profile"* ]] && [ -n "${VITGRADE_DATA_PROFILE:-}" ]; then
        args+=(--data-profile "$VITGRADE_DATA_PROFILE")
    fi
    seed_cache
    exec python -m grader "${args[@]}"
}

command="${1:-serve}"
[ "$#" -gt 0 ] && shift
case "$command" in
serve)
    prepare_sqlite
    echo serve >"$role_file" 2>/dev/null || true
    exec python -m uvicorn --factory service.app:create_app \
        --host "${VITGRADE_HOST:-0.0.0.0}" --port "${VITGRADE_PORT:-8000}" \
        --proxy-headers --forwarded-allow-ips "${VITGRADE_FORWARDED_ALLOW_IPS:-127.0.0.1}" \
        --timeout-keep-alive 5 --limit-concurrency "${VITGRADE_LIMIT_CONCURRENCY:-200}" \
        --http service.http:HeaderCappedProtocol --no-server-header "$@"
    ;;
worker)
    prepare_sqlite
    seed_cache
    echo worker >"$role_file" 2>/dev/null || true
    exec python -m service.worker "$@"
    ;;
grade) grade "$@" ;;
roster) prepare_sqlite; exec python -m service.roster "$@" ;;
migrate) prepare_sqlite; exec python -m service.migrate "$@" ;;
mnist) exec python -m reference.mnist "$@" ;;
health) exec python /opt/vitgrade/docker/healthcheck.py "$@" ;;
bake) exec python /opt/vitgrade/docker/bake.py "$@" ;;
backup | restore) exec python /opt/vitgrade/docker/backup.py "$command" "$@" ;;
shell) exec bash "$@" ;;
-*) echo "vitgrade: unknown option $command; commands: serve worker grade roster migrate mnist health bake backup restore shell" >&2; exit 2 ;;
*) exec "$command" "$@" ;;
esac
