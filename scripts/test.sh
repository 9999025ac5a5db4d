#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite: lint, format check, then pytest
# (unit, AppTest and real-browser tests). This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium for the browser tests (never `playwright install`: nothing is downloaded).
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

python -m pip install --quiet -r requirements-dev.txt

python -m ruff check .
python -m ruff format --check .
python -m pytest "$@"
