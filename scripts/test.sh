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

python -m ruff check .
python -m ruff format --check .
# Two passes. First everything that does not wait on what a student would see, spread over the
# machine's cores by pytest-xdist (the Jupyter kernels too). Then the tests marked `alone`
# (Chromium, replicas behind HAProxy, a protocol-level class), one at a time with the machine to
# themselves: they wait on a page or a class, and the browser tests alone keep both cores of a
# 2-core machine busy (benchmarks/suite_cpu.py measures it).
# `--dist loadgroup`: tests marked with one xdist_group share a worker, so the runs they share
# (conftest.run_events) are trained once.
# Extra arguments go to both passes; one pass selecting nothing (pytest's exit 5) is fine, both is not.
ran=0
pass_or_empty() { if "$@"; then ran=1; else status=$?; [ "$status" -eq 5 ] || exit "$status"; fi; }
pass_or_empty python -m pytest -m "not alone" -n auto --dist loadgroup "$@"
pass_or_empty python -m pytest -m alone "$@"
[ "$ran" -eq 1 ] || { echo "scripts/test.sh: no test matched $*" >&2; exit 5; }
