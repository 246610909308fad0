#!/usr/bin/env bash
# Runs the HTTP cache conformance suite (https://cache-tests.fyi,
# github.com/http-tests/cache-tests) against a geocdn edge and prints how many
# tests pass, counted as cache-tests.fyi counts them: per kind (required,
# optimal, check), a test whose dependency failed counting as not passed.
#
#   CACHE_TESTS_DIR=/path/to/cache-tests scripts/cache-tests.sh
#
# The checkout needs its own dependencies (`npm install` in it, once). This
# script downloads nothing. Environment:
#   CACHE_TESTS_DIR          the checkout (required)
#   CACHE_TESTS_ORIGIN_PORT  the suite's server, the edge's origin (default 18000)
#   CACHE_TESTS_EDGE_PORT    the edge (default 18001)
#   HONOR_CLIENT_NO_CACHE    true: the site honours request Cache-Control (default false)
#   CACHE_TESTS_GRACE_S      the site's grace_s: serve stale this long when the origin fails
#                            (default 0, as the edge's default; the suite's stale-close
#                            requirements only count when stale-close itself passes)
#   CACHE_TESTS_OUT          where the results JSON goes (default: a temporary file)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${CACHE_TESTS_DIR:-}" ]]; then
  cat >&2 <<'EOF'
CACHE_TESTS_DIR is not set. Get the suite once, then point the variable at it:
  git clone https://github.com/http-tests/cache-tests
  (cd cache-tests && npm install)
  CACHE_TESTS_DIR=$PWD/cache-tests scripts/cache-tests.sh
EOF
  exit 2
fi
suite="$(cd "$CACHE_TESTS_DIR" && pwd)"
for f in test-engine/cli.mjs test-engine/server/server.mjs test-engine/lib/results.mjs tests/index.mjs; do
  if [[ ! -f "$suite/$f" ]]; then
    echo "$suite/$f is missing: CACHE_TESTS_DIR must be a checkout of http-tests/cache-tests with the test-engine/ layout" >&2
    exit 2
  fi
done
if [[ ! -d "$suite/node_modules" ]]; then
  echo "$suite has no node_modules: run 'npm install' in it first (this script downloads nothing)" >&2
  exit 2
fi

origin_port="${CACHE_TESTS_ORIGIN_PORT:-18000}"
edge_port="${CACHE_TESTS_EDGE_PORT:-18001}"
honor="${HONOR_CLIENT_NO_CACHE:-false}"
grace="${CACHE_TESTS_GRACE_S:-0}"
work="$(mktemp -d)"
out="${CACHE_TESTS_OUT:-$work/results.json}"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1 ($2)" >&2
  return 1
}

echo "building geocdn…" >&2
(cd "$root" && node node_modules/typescript/bin/tsc -p tsconfig.json)

# The suite's client sends Host: 127.0.0.1:PORT; the site is that host.
cat > "$work/edge.yaml" <<EOF
edge:
  listen: "127.0.0.1:$edge_port"
  access_log: false
sites:
  "127.0.0.1":
    origin: "http://127.0.0.1:$origin_port"
    aliases: ["localhost"]
    honor_client_no_cache: $honor
    grace_s: $grace
EOF

(cd "$suite" && npm_config_protocol=http npm_config_port="$origin_port" npm_config_pidfile="$work/server.pid" \
  exec node test-engine/server/server.mjs > "$work/server.log" 2>&1) &
pids+=($!)
GEOCDN_LOG_LEVEL=warn node "$root/dist/cli.js" edge --config "$work/edge.yaml" > "$work/edge.log" 2>&1 &
pids+=($!)
wait_port "$origin_port" "the suite's server, see $work/server.log"
wait_port "$edge_port" "the edge"

echo "running the suite through the edge on 127.0.0.1:$edge_port (about a minute)…" >&2
(cd "$suite" && npm_config_base="http://127.0.0.1:$edge_port" npm_config_id= npm_package_config_id= \
  node --no-warnings test-engine/cli.mjs) > "$out"

SUITE="$suite" RESULTS="$out" node --input-type=module <<'EOF'
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const suite = process.env.SUITE;
const { default: tests } = await import(pathToFileURL(`${suite}/tests/index.mjs`).href);
const { determineTestResult, resultTypes } = await import(pathToFileURL(`${suite}/test-engine/lib/results.mjs`).href);
const results = JSON.parse(readFileSync(process.env.RESULTS, 'utf8'));
const kinds = { required: { pass: 0, total: 0, failing: [] }, optimal: { pass: 0, total: 0, failing: [] }, check: { pass: 0, total: 0, failing: [] } };
for (const suiteTests of tests) {
  for (const t of suiteTests.tests) {
    if (t.browser_only) continue; // a shared cache is not a browser
    const k = kinds[t.kind ?? 'required'];
    const r = determineTestResult(tests, t.id, results);
    k.total++;
    if (r === resultTypes.pass || r === resultTypes.yes) k.pass++;
    else k.failing.push(`${t.id}${Array.isArray(results[t.id]) ? `: ${results[t.id][1]}` : r === resultTypes.dependency_fail ? ': a dependency failed' : ''}`);
  }
}
console.log(`required: ${kinds.required.pass}/${kinds.required.total}`);
console.log(`optional: ${kinds.optimal.pass}/${kinds.optimal.total}  (optimal)`);
console.log(`check:    ${kinds.check.pass}/${kinds.check.total}  (informational)`);
for (const name of ['required', 'optimal']) {
  if (kinds[name].failing.length) console.log(`\nnot passing (${name}):\n  ${kinds[name].failing.join('\n  ')}`);
}
EOF
