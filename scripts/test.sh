#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs
# ruff, mypy, pytest (SQLite and a real PostgreSQL 15 server it starts itself) and the
# JavaScript client's node tests against a real `recuerdo serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql-15)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Debian's postgresql package starts a cluster of its own; the tests start their own server.
if command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | grep -q online; then
  pg_ctlcluster 15 main stop 2>/dev/null || true
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
echo "== installing recuerdo and its test tools into .venv"
# The local-embedding tests need PyTorch: pin the CPU build this machine carries on disk first
# (an unpinned torch would download a multi-gigabyte CUDA build), then the extras.
.venv/bin/pip install -q --disable-pip-version-check "torch==2.13.0"
.venv/bin/pip install -q --disable-pip-version-check -e ".[test,embeddings]"
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff"
ruff check src tests bench
ruff format --check src tests bench
echo "== mypy (strict)"
mypy

echo "== pytest"
pytest -q -p no:cacheprovider

if [ -f clients/js/package.json ]; then
  echo "== JavaScript client (node --test)"
  (cd clients/js && npm ci --no-audit --no-fund --loglevel=error && node --test)
fi
