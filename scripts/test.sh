#!/usr/bin/env bash
# The whole test suite: peer daemons installed if missing, type check, lint, unit tests, interop tests.
# Run through `npm test` so that the pinned Node 24 from node_modules is first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh
echo "== typecheck"; tsc --noEmit -p .
echo "== lint"; biome check .
echo "== tests (node $(node --version))"
node --test --test-concurrency=2 --test-timeout=300000 --test-reporter=spec \
  'src/**/*.test.ts' 'test/**/*.test.ts'
