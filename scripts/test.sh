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
python -m pytest "$@"
