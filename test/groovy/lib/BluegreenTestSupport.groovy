import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import java.nio.file.Files

/** Helpers for tests of bluegreen's vars: answers for the runner's two kinds of sh call. */
class BluegreenTestSupport {

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
        h.onSh('command -v node') { ShCall c -> version == null ? 'node: not found\n' : "${version}\n".toString() }
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
        h.onSh('command -v node') { ShCall c -> h.realSh(c) }
    }

    /** Answers runs of `stage`'s bundle: writes `output` as its output file (null: none) and exits `status`. */
    static void stubStage(PipelineHarness h, String stage, int status, Object output) {
        h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE?.endsWith("/${stage}.js") }) { ShCall c ->
            if (output != null) {
                new File(c.env.BLUEGREEN_OUTPUT).setText(JsonOutput.toJson(output), 'UTF-8')
            }
            status
        }
    }

    /** Runs every stage bundle for real with node (the Node.js check too). */
    static void runBundlesForReal(PipelineHarness h) {
        h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE != null }) { ShCall c -> h.realSh(c) }
        h.onSh('command -v node') { ShCall c -> h.realSh(c) }
    }

    /** The input JSON the runner wrote for its n-th stage call (1-based), parsed. */
    static Map stageInput(PipelineHarness h, int n = 1) {
        List<StepCall> inputs = h.callsTo('writeFile').findAll { it.named.file.toString().endsWith('.in.json') }
        return (Map) new JsonSlurper().parseText(inputs[n - 1].named.text as String)
    }

    /** The runner's stage runs (sh calls with the bundle in their env), in order. */
    static List<StepCall> stageRuns(PipelineHarness h) {
        return h.callsTo('sh').findAll { it.named.label?.toString()?.startsWith('bluegreen ') }
    }
}
