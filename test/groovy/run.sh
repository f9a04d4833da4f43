#!/usr/bin/env bash
# Runs all Groovy JUnit tests (test/groovy/**/*Test.groovy) in one JVM with Debian's groovy 2.4
# and junit4. Arguments filter test classes by name. Last line: "groovy: N passed, N failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# groovy needs a JDK; prefer 17 (Groovy 2.4 predates newer class file versions).
if [ -z "${JAVA_HOME:-}" ]; then
  for jdk in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/default-java; do
    if [ -x "$jdk/bin/java" ]; then export JAVA_HOME="$jdk"; break; fi
  done
fi

# The sources and fixtures are UTF-8 ("→" in expected lines): read them so whatever the locale (none under env -i).
export JAVA_OPTS="-Dfile.encoding=UTF-8 ${JAVA_OPTS:-}"

summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
export GROOVY_TEST_SUMMARY="$summary" BLUEGREEN_REPO_ROOT="$root"

cd "$root" || exit 1
groovy -cp "$here/lib:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar" "$here/RunAllTests.groovy" "$@"
status=$?

# The runner writes its counts; if the JVM never got that far, count it as one failure.
if read -r passed failed < "$summary" 2>/dev/null && [ -n "${passed:-}" ]; then
  [ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
else
  passed=0 failed=1
  echo "run.sh: the test runner did not finish (exit $status)" >&2
fi
echo "groovy: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
