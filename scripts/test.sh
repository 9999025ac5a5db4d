#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite: lint, format check, then pytest
# (unit, AppTest and real-browser tests). This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# From Debian: Chromium for the browser tests (never `playwright install`: nothing is downloaded)
# and HAProxy for the tests of replicas behind a proxy (deploy/local.sh).
if ! command -v chromium >/dev/null 2>&1 || ! command -v haproxy >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium haproxy >/dev/null
fi

python -m pip install --quiet -r requirements-dev.txt

# Python's bytecode caches (git-ignored __pycache__): without them every pytest process compiles the
# tests and rewrites their asserts anew, about 4 s of CPU each (a machine whose environment sets
# PYTHONDONTWRITEBYTECODE); with them, once.
unset PYTHONDONTWRITEBYTECODE

python -m ruff check .
python -m ruff format --check .
# pytest in two parts, side by side, from the start.
# - The tests marked `alone` (Chromium against `streamlit run`, protocol-level classes, replicas
#   behind HAProxy), in one process, one at a time, at the machine's normal priority: they wait on
#   what a student would see and need the CPU when a page draws or a proxy checks a replica.
# - Beside them, everything not marked alone (what does not wait on a page, and the tests marked
#   beside, which force their own timing), in one process at the lowest priority (`nice -n 19`): it
#   takes only the CPU the waiting tests leave idle. One process rather than pytest-xdist's two
#   workers: a second worker cost the suite 10-35 s of CPU (xdist's controller, a second collection
#   and forkserver) and slowed the waiting tests, and on one core the quick tests end within seconds
#   of the waiting ones anyway. (Linux's idle class, `chrt --idle 0`, weighs 3 in the scheduler
#   against nice 19's 15: a quick test that must get the CPU on time, and the training workers the
#   quick tests start, are five times likelier to miss it. One test failed so.) Its report is printed
#   when it is over. BENCHMARKS.md ("The quick tests beside the waiting ones", and the fifteenth
#   stop) has the measurements.
# Extra arguments go to both parts; a part selecting nothing (pytest's exit 5) is fine, both are not.
ran=0 failed=0
clocks=$(python benchmarks/suite_cpu.py now)  # for the suite's floor line at the end
record() { if [ "$1" -eq 0 ]; then ran=1; elif [ "$1" -ne 5 ]; then failed=$1; fi; }
quick_log=$(mktemp) alone="" quick=""
trap '[ -z "$alone$quick" ] || kill $alone $quick 2>/dev/null; rm -f "$quick_log"' EXIT
python -m pytest -m alone "$@" &
alone=$!
nice -n 19 python -m pytest -m "not alone" "$@" > "$quick_log" 2>&1 &
quick=$!
wait "$alone" && status=0 || status=$?
alone=""
record "$status"
wait "$quick" && status=0 || status=$?
quick=""
echo "---- beside them: the tests that do not wait on a page ----"
cat "$quick_log"
record "$status"
# Wall time against the floor the machine's CPU sets on its cores, and the machine's pace this hour:
# a number of minutes says more about the hour than about the suite (BENCHMARKS.md).
echo "---- the whole suite ----"
python benchmarks/suite_cpu.py since $clocks
[ "$failed" -eq 0 ] || exit "$failed"
[ "$ran" -eq 1 ] || { echo "scripts/test.sh: no test matched $*" >&2; exit 5; }
