import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import java.nio.file.Files

/** Helpers for tests of bluegreen's vars: harnesses, answers for the runner's shell calls, error helpers. */
class BluegreenTestSupport {

    /** The label of the runner's Node.js check (sh on Unix, powershell on Windows). */
    static final String NODE_CHECK_LABEL = 'bluegreen: check Node.js'

    /** The runner's one message for a missing ledger: (the steps that need one share it). */
    static String ledgerRequired(String step) {
        return "${step}: ledger is required: where deployments are recorded and clusters locked, " +
               "e.g. 's3://my-deploy-ledger/bluegreen' or [bucket: 'my-deploy-ledger']"
    }

    /** Whether a shell call is the runner's Node.js check. */
    static boolean isNodeCheck(ShCall c) {
        return c.label == NODE_CHECK_LABEL || c.script.contains('command -v node')
    }

    /**
     * A build whose stage bundles are scripted: libraryResource returns a stand-in text (the bundle is
     * never run), Node.js is found, and each of `stages` answers exit 0 with an empty output.
     */
    static PipelineHarness scriptedHarness() {
        PipelineHarness h = new PipelineHarness()
        standInBundles(h)
        stubNodeCheck(h)
        return h
    }

    /**
     * libraryResource answers a stand-in text for every stage bundle (scripted sh never runs them),
     * but the real junit-report.js: it is small, and stubStage runs it on a deploy's scripted output.
     */
    static void standInBundles(PipelineHarness h) {
        h.registerStep('libraryResource') { StepCall c ->
            String resource = c.arg('resource') as String
            File real = new File(h.repoRoot, "resources/${resource}")
            resource == 'bluegreen/junit-report.js' ? real.getText('UTF-8') : "// stand-in for ${resource}\n".toString()
        }
    }

    /**
     * Calls step `name` with `args` expecting exactly one error() and, unless `stageMayRun`, no stage
     * run; returns the error's message. Fails the test when the step returns.
     */
    static String stepError(PipelineHarness h, String name, Object args, boolean stageMayRun = false) {
        h.calls.clear()
        try {
            h.loadVar(name).invokeMethod('call', args instanceof List ? ((List) args).toArray() : [args] as Object[])
        } catch (PipelineError e) {
            assert h.callCount('error') == 1: "one error() call, calls:\n${h.callLog()}"
            assert e.message == h.callsTo('error')[0].arg('message')
            assert stageMayRun || stageRuns(h).isEmpty(): "nothing ran, calls:\n${h.callLog()}"
            return e.message
        }
        throw new AssertionError((Object) "expected error() from ${name}, calls:\n${h.callLog()}".toString())
    }

    /** Test-only stage bundles (echo.js), looked up after the real resources/ dir. */
    static File fixtureResources(PipelineHarness h) {
        return new File(h.repoRoot, 'test/groovy/fixtures/resources')
    }

    /** A harness whose libraryResource also finds the fixture bundles. */
    static PipelineHarness harnessWithFixtures(Map options = [:]) {
        PipelineHarness h = new PipelineHarness(options)
        h.resourceRoots << fixtureResources(h)
        return h
    }

    /** Answers the runner's Node.js check as if `node --version` printed `version` (null: no node). */
    static void stubNodeCheck(PipelineHarness h, String version = 'v20.11.1') {
        h.onSh({ ShCall c -> isNodeCheck(c) }) { ShCall c -> version == null ? 'node: not found\n' : "${version}\n".toString() }
    }

    /**
     * Runs the runner's real Node.js check script, with a fake `node` printing `version` first
     * on PATH; with null, PATH holds only find and rm, so there is no node at all.
     */
    static void fakeNodeOnPath(PipelineHarness h, String version) {
        File bin = Files.createTempDirectory(h.tempRoot.toPath(), 'bin').toFile()
        if (version == null) {
            for (String tool : ['find', 'rm']) {
                Files.createSymbolicLink(new File(bin, tool).toPath(), new File("/usr/bin/${tool}").toPath())
            }
            h.env.PATH = bin.path
        } else {
            File node = new File(bin, 'node')
            node.text = "#!/bin/sh\necho ${version}\n"
            node.setExecutable(true)
            h.env.PATH = "${bin.path}:${h.env.PATH}".toString()
        }
        h.onSh({ ShCall c -> isNodeCheck(c) }) { ShCall c -> h.realSh(c) }
    }

    /** Answers runs of `stage`'s bundle: writes `output` as its output file (null: none) and exits `status`. */
    static void stubStage(PipelineHarness h, String stage, int status, Object output) {
        if (stage == 'deploy') {
            h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE?.endsWith('/junit-report.js') }) { ShCall c -> h.realSh(c) }
        }
        h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE?.endsWith("/${stage}.js") }) { ShCall c ->
            if (output != null) {
                new File(c.env.BLUEGREEN_OUTPUT).setText(JsonOutput.toJson(output), 'UTF-8')
            }
            status
        }
    }

    /** Runs every stage bundle for real with node (the Node.js check and the JUnit report too). */
    static void runBundlesForReal(PipelineHarness h) {
        h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE != null }) { ShCall c -> h.realSh(c) }
        h.onSh({ ShCall c -> isNodeCheck(c) }) { ShCall c -> h.realSh(c) }
    }

    /** The input JSON the runner wrote for its n-th stage call (1-based), parsed. */
    static Map stageInput(PipelineHarness h, int n = 1) {
        List<StepCall> inputs = h.callsTo('writeFile').findAll { it.named.file.toString().endsWith('.in.json') }
        return (Map) new JsonSlurper().parseText(inputs[n - 1].named.text as String)
    }

    /** The runner's stage runs (shell calls labelled "bluegreen <stage> ..."), in order. */
    static List<StepCall> stageRuns(PipelineHarness h) {
        return h.calls.findAll { it.name in ['sh', 'powershell', 'bat'] && it.named.label?.toString()?.startsWith('bluegreen ') }
    }

    /** The stage a run's label names: "bluegreen deploy web-prod ..." -> deploy. */
    static String stageOfRun(StepCall run) {
        return run.named.label.toString().tokenize(' ')[1]
    }
}
