# Sourced by the benchmarks: start the GitLab double standalone in a temp dir, stop it on exit.
# Sets: python, token, work (temp dir, removed on exit), base (the double's URL).
python="${PYTHON:-.venv/bin/python}"
token="glpat-bench-api"
work="$(mktemp -d)"
double_pid=""
cleanup() {
    if [ -n "$double_pid" ]; then kill "$double_pid" 2>/dev/null && wait "$double_pid" 2>/dev/null; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$python" -m tests.gitlab_double --data-dir "$work/data" --token "$token:api:developer" \
    >"$work/stdout" 2>"$work/stderr" &
double_pid=$!
for _ in $(seq 1 50); do
    grep -q '^READY ' "$work/stdout" 2>/dev/null && break
    sleep 0.1
done
base="$(sed -n 's/^READY //p' "$work/stdout")"
[ -n "$base" ] || { echo "double did not start:" >&2; cat "$work/stderr" >&2; exit 1; }
