import org.codehaus.groovy.control.CompilationFailedException
import org.junit.runner.Description
import org.junit.runner.JUnitCore
import org.junit.runner.Result
import org.junit.runner.notification.Failure
import org.junit.runner.notification.RunListener

/*
 * Runs every test/groovy/**\/*Test.groovy with JUnit 4 in this one JVM (run.sh starts it).
 * Arguments, if any, keep only the test classes whose name contains one of them.
 * Writes "passed failed" to $GROOVY_TEST_SUMMARY for run.sh's last line.
 */

File testRoot = new File(getClass().protectionDomain.codeSource.location.path).parentFile
List<File> testFiles = []
testRoot.eachFileRecurse { File f ->
    if (f.name.endsWith('Test.groovy') && !f.path.contains('/lib/') && !f.path.contains('/fixtures/')) {
        testFiles << f
    }
}
testFiles.sort { it.path }

GroovyClassLoader loader = new GroovyClassLoader(getClass().classLoader)
List<Class> classes = []
int compileFailures = 0
for (File f : testFiles) {
    if (args && !args.any { f.name.contains(it) }) {
        continue
    }
    try {
        classes << loader.parseClass(f)
    } catch (CompilationFailedException e) {
        compileFailures++
        println "COMPILE FAILED ${testRoot.toPath().relativize(f.toPath())}:\n${e.message}"
    }
}

Set<Description> failedTests = [] as Set
Set<Description> skipped = [] as Set
int finished = 0
int ignored = 0
JUnitCore junit = new JUnitCore()
junit.addListener(new RunListener() {
    long started

    void testStarted(Description d) {
        started = System.currentTimeMillis()
    }

    void testFailure(Failure failure) {
        failedTests << failure.description
    }

    // An Assume that does not hold (e.g. a bundle not built yet): shown as SKIP, not as ok.
    void testAssumptionFailure(Failure failure) {
        skipped << failure.description
        println "  SKIP ${failure.description.className}.${failure.description.methodName}: ${failure.message}"
    }

    void testIgnored(Description d) {
        ignored++
        println "  SKIP ${d.className}.${d.methodName}"
    }

    void testFinished(Description d) {
        finished++
        if (skipped.contains(d)) {
            return
        }
        String mark = failedTests.contains(d) ? 'FAIL' : ' ok '
        println "  ${mark} ${d.className}.${d.methodName} (${System.currentTimeMillis() - started} ms)"
    }
})
Result result = junit.run(classes as Class[])

for (Failure failure : result.failures) {
    println "\n---- ${failure.testHeader}"
    // Frames of the JDK, Groovy and JUnit only hide where the test failed.
    String noise = /^\s+at (java\.|jdk\.|sun\.|org\.codehaus\.groovy\.|groovy\.(lang|ui)\.|org\.junit\.)/
    println failure.trace.readLines().findAll { line -> !(line =~ noise) }.join('\n')
}

int failed = result.failureCount + compileFailures
int passed = finished - failedTests.count { it.methodName != null } - skipped.size()
if (ignored || skipped) {
    println "(${ignored + skipped.size()} skipped)"
}
String summaryFile = System.getenv('GROOVY_TEST_SUMMARY')
if (summaryFile) {
    new File(summaryFile).text = "${passed} ${failed}\n"   // run.sh prints the summary line
} else {
    println "groovy: ${passed} passed, ${failed} failed"
}
System.exit(failed == 0 && (passed > 0 || args) ? 0 : 1)
