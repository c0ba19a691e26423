#!/usr/bin/env bash
# Measure how fast the GitLab double takes a model file: start it standalone, create a model and a
# version through its MLflow API, PUT a 1 GiB file with `curl -T` and print MB/s.
# Usage: bench/double_upload.sh [SIZE_MIB] [RUNS]   (defaults 1024 and 3; the file is random data,
# not sparse, so nothing can shortcut zero pages). Prints each run and the median. Set TMPDIR to
# choose the disk the double writes to. On a shared 2-core machine the spread between runs is wide.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib="${1:-1024}"
runs="${2:-3}"
# shellcheck source=bench/_double.sh
source bench/_double.sh

mlflow="$base/api/v4/projects/1/ml/mlflow/api/2.0/mlflow"
api() {
    curl -fsS -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
        -d "$2" "$mlflow/$1"
}
new_version_id() {
    api registered-models/create '{"name": "bench"}' >/dev/null
    api model-versions/create '{"name": "bench"}' | "$python" -c \
        'import json, sys; print(json.load(sys.stdin)["model_version"]["version"])'
}

head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$work/weights.bin"
timings=()
for _ in $(seq 1 "$runs"); do
    # Each run starts from an empty double with nothing left to flush, so the disk's write-back
    # of the previous run's GiB does not compete with this one.
    curl -fsS -X POST "$base/-/double/reset" >/dev/null
    url="$base/api/v4/projects/1/packages/ml_models/$(new_version_id)/files/weights.bin"
    sync
    read -r status seconds < <(curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' \
        -H "Authorization: Bearer $token" -T "$work/weights.bin" "$url")
    [ "$status" = 201 ] || { echo "upload answered $status" >&2; exit 1; }
    timings+=("$seconds")
done
"$python" - "$size_mib" "${timings[@]}" <<'PY'
import statistics
import sys

mib, seconds = int(sys.argv[1]), [float(s) for s in sys.argv[2:]]
rates = [mib * 1.048576 / s for s in seconds]
for s, rate in zip(seconds, rates):
    print(f"{mib} MiB PUT in {s:.2f} s: {rate:.0f} MB/s")
print(f"median: {statistics.median(rates):.0f} MB/s over {len(rates)} run(s)")
PY
