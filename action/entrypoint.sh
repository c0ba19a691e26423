#!/bin/bash
# Docker action entry point: map the action's inputs onto gmr's own GMR_* variables, run
# `gmr publish`, and hand the published version to the workflow through $GITHUB_OUTPUT.
# Extra arguments (the action's `args`) are passed to `gmr publish` as they are.
set -euo pipefail

# GitHub keeps hyphens in input variables (INPUT_PARAMS-FILE), which no shell can expand, and
# other runners write underscores (INPUT_PARAMS_FILE): read either through the environment.
input() {
    local name="INPUT_${1^^}"
    printenv "$name" || printenv "${name//-/_}" || true
}

# An empty input leaves any GMR_* variable the workflow set itself untouched.
map_input() {
    local value
    value="$(input "$1")"
    if [ -n "$value" ]; then
        export "$2=$value"
    fi
}

# One path per line, as the files input documents, spaces kept (GitLab accepts them in file
# names): gmr gets them as a JSON array. A JSON array input is passed on as it is.
map_files() {
    local value
    value="$(input files)"
    if [ -n "$value" ]; then
        GMR_FILES="$(printf '%s' "$value" | "$(dirname "$0")/python" -c '
import json, sys
text = sys.stdin.read()
paths = [line.strip() for line in text.splitlines() if line.strip()]
print(text.strip() if text.lstrip().startswith("[") else json.dumps(paths))
')"
        export GMR_FILES
    fi
}

map_input model GMR_MODEL
map_files
map_input version GMR_VERSION
map_input bump GMR_BUMP
map_input prerelease-label GMR_PRERELEASE_LABEL
map_input description GMR_DESCRIPTION
map_input params-file GMR_PARAMS_FILE
map_input metrics-file GMR_METRICS_FILE
map_input gitlab-url GMR_GITLAB_URL
map_input project GMR_PROJECT
map_input token GMR_TOKEN
map_input ca-file GMR_CA_FILE
map_input concurrency GMR_CONCURRENCY

# Say what is missing before any network call; gmr then fails with its own message and exit code.
if [ -z "${GMR_TOKEN:-}" ]; then
    echo "::warning title=gmr::the token input is empty: pass a GitLab token with the api scope, e.g. token: \${{ secrets.GITLAB_TOKEN }}"
fi
if [ -z "${GMR_FILES:-}" ] && [ "$#" -eq 0 ]; then
    echo "::warning title=gmr::the files input is empty: list the model files or directories to upload"
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

# gmr runs as a child (not exec'd) because the outputs are written after it ends; as PID 1 this
# shell forwards termination signals so a cancelled workflow stops the upload at once.
gmr publish --dotenv "$workdir/model.env" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT
status=0
wait "$child" || status=$?
if kill -0 "$child" 2>/dev/null; then
    status=0
    wait "$child" || status=$?
fi
if [ "$status" -ne 0 ]; then
    exit "$status"
fi

if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "model-version=$(sed -n 's/^MODEL_VERSION=//p' "$workdir/model.env")"
        echo "model-version-url=$(sed -n 's/^MODEL_VERSION_URL=//p' "$workdir/model.env")"
    } >>"$GITHUB_OUTPUT"
fi
