#!/usr/bin/env bash
# How fast and how lean `gmr publish` is on big files: start the GitLab double standalone, publish
# SIZE_MIB of random data (one file, or FILES files of SIZE_MIB/FILES each) and report the wall
# time, MB/s and the CLI's peak RSS. Targets: throughput within reach of the double's own
# (bench/double_upload.sh), peak RSS flat in the file size (streaming, no whole-file reads).
# Usage: bench/publish_upload.sh [SIZE_MIB] [FILES]   (default 1024 1)
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib="${1:-1024}"
files="${2:-1}"
# shellcheck source=bench/_double.sh
source bench/_double.sh

mkdir -p "$work/model"
per_file_mib=$((size_mib / files))
for i in $(seq 1 "$files"); do
    head -c "$((per_file_mib * 1024 * 1024))" /dev/urandom >"$work/model/part-$i.bin"
done
sync

start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$work/rss" env -u CI_JOB_TOKEN \
    "$python" -m gitlab_model_registry publish bench "$work/model" --no-progress \
    --gitlab-url "$base" --project 1 --token "$token" --upload-token api >/dev/null 2>"$work/gmr.err" \
    || { cat "$work/gmr.err" >&2; exit 1; }
end=$(date +%s.%N)

"$python" - "$start" "$end" "$((per_file_mib * files))" "$files" "$(cat "$work/rss")" <<'PY'
import sys
start, end, mib, files, rss_kib = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
seconds = end - start
print(f"gmr publish: {mib} MiB in {files} file(s), {seconds:.1f} s, {mib * 1.048576 / seconds:.0f} MB/s, peak RSS {rss_kib / 1024:.0f} MiB")
PY
