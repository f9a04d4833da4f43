import static BluegreenTestSupport.*
import static org.junit.Assert.*

import java.nio.file.Files
import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * The runner as a real controller runs it: on Windows agents, with var instances per calling
 * script, without Pipeline Utility Steps, whatever the controller's default encoding, with a
 * prune that may fail, and in a container without node.
 */
class BluegreenStageOnJenkinsTest {

    private PipelineHarness h

    @Before
    void setUp() {
        h = harnessWithFixtures()
    }

    @After
    void tearDown() {
        h.close()
    }

    private Map runStage(String stage, Map params) {
        return (Map) h.loadVar('bluegreenStage').call(stage, params)
    }

    private String stageError(String stage, Map params) {
        try {
            runStage(stage, params)
        } catch (PipelineError e) {
            assertEquals("one error() call, calls:\n${h.callLog()}", 1, h.callCount('error'))
            return e.message
        }
        fail("expected error(), calls:\n${h.callLog()}")
        return null
    }

    /** A dir on PATH holding a fake `node` that prints `version`, and the given other fake tools. */
    private File fakeBin(String nodeVersion, Map<String, String> tools = [:]) {
        File bin = Files.createTempDirectory(h.tempRoot.toPath(), 'bin').toFile()
        Map<String, String> all = [node: "echo ${nodeVersion}".toString()] + tools
        all.each { String name, String body ->
            File tool = new File(bin, name)
            tool.text = "#!/bin/sh\n${body}\n"
            tool.setExecutable(true)
        }
        h.env.PATH = "${bin.path}:${h.env.PATH}".toString()
        return bin
    }

    // ---------------------------------------------------------------- 1: Windows agents

    @Test
    void onAWindowsAgentTheStageRunsThroughPowershellWithTheSameContract() {
        h.unix = false
        stubNodeCheck(h)
        stubStage(h, 'echo', 0, [ok: true])

        Map out = runStage('echo', [app: 'web'])

        assertEquals([ok: true], out)
        List<StepCall> shells = h.calls.findAll { it.name in ['sh', 'bat', 'powershell', 'pwsh'] }
        // The Node.js check, the stage's --names (for the label), the run.
        assertEquals(['powershell', 'powershell', 'powershell'], shells*.name)
        assertEquals(NODE_CHECK_LABEL, shells[0].named.label)
        Script runner = h.loadVar('bluegreenStage')
        assertEquals(runner.NAMES_POWERSHELL, shells[1].named.script)
        StepCall run = stageRuns(h)[0]
        assertTrue(run.named.returnStatus as boolean)
        assertEquals('the script is a constant: nothing of the workspace or the input in it',
                     runner.RUN_STAGE_POWERSHELL, run.named.script)
        assertEquals([app: 'web'], stageInput(h))
    }

    @Test
    void theWindowsScriptsKeepTheContract() {
        // No pwsh on this machine (Debian ships none: `apt-cache policy powershell` is empty), so the
        // script text itself is checked: env-only inputs, output removed first, node's exit code kept,
        // 127 when there is no node; the check prunes best-effort and prints what `node --version` says.
        Script runner = h.loadVar('bluegreenStage')
        String run = runner.RUN_STAGE_POWERSHELL
        List<String> lines = run.readLines()*.trim().findAll { it && !it.startsWith('#') }
        assertEquals('$ErrorActionPreference = \'Continue\'', lines[0])
        assertTrue(run, lines.any { it == 'Remove-Item -LiteralPath $env:BLUEGREEN_OUTPUT -Force -ErrorAction SilentlyContinue' })
        assertTrue(run, lines.any { it.startsWith('if (-not (Get-Command node -CommandType Application -ErrorAction SilentlyContinue))') &&
                                    it.endsWith('{ exit 127 }') })
        assertTrue(run, lines.contains('& node $env:BLUEGREEN_BUNDLE --input $env:BLUEGREEN_INPUT --output $env:BLUEGREEN_OUTPUT'))
        // The names call keeps the same contract, with its bundle in a variable of its own.
        List<String> names = (runner.NAMES_POWERSHELL as String).readLines()*.trim().findAll { it && !it.startsWith('#') }
        assertEquals(lines.collect {
            it.replace('& node $env:BLUEGREEN_BUNDLE --input', '& node $env:BLUEGREEN_NAMES_OF --names --input')
        }, names)
        assertEquals('exit $LASTEXITCODE', lines[-1])
        assertTrue('the output is removed before node runs',
                   lines.findIndexOf { it.startsWith('Remove-Item') } < lines.findIndexOf { it.startsWith('& node') })

        String check = runner.NODE_CHECK_POWERSHELL
        assertTrue(check, check.contains('-ErrorAction SilentlyContinue'))
        assertTrue(check, check.contains('$env:BLUEGREEN_KEEP'))
        assertTrue(check, check.contains("Write-Output 'node: not found'"))
        for (String script : [run, check]) {
            assertFalse('no Groovy interpolation left', script.contains('${'))
            assertFalse('only $env: variables, the loop variable $dir and $_/$LASTEXITCODE/$ErrorActionPreference',
                        (script =~ /\$(?!env:|_\b|_\.|dir\b|LASTEXITCODE|ErrorActionPreference)\w+/).find())
        }
    }

    @Test
    void bakeOnWindowsWithoutPackerExeSaysSoBeforeRunning() {
        h.unix = false
        h.registerStep('libraryResource') { StepCall c -> '// stand-in\n' }
        stubNodeCheck(h)
        h.onSh({ ShCall c -> c.label == 'bluegreen: check packer.exe' }) { ShCall c -> 'packer.exe: not found\n' }

        String message = stepError(h, 'bakeAmi', [app: 'web', version: '1', sourceAmi: [id: 'ami-0123456789abcdef0']])

        assertTrue(message, message.startsWith('bakeAmi: packer.exe is not on the PATH of this Windows agent'))
        assertTrue(message, message.contains("withEnv(['PATH+PACKER="))
    }

    // ---------------------------------------------------------------- 2: per-call files

    @Test
    void twoStepsRunningTheSameStageNeverShareFilesNorReadAStaleOutput() {
        standInBundles(h)
        stubNodeCheck(h)
        h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE?.endsWith('/junit-report.js') }) { ShCall c -> h.realSh(c) }
        int runs = 0
        List<Boolean> outputExistedBefore = []
        h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE?.endsWith('/deploy.js') }) { ShCall c ->
            runs++
            File output = new File(c.env.BLUEGREEN_OUTPUT)
            outputExistedBefore << output.exists()
            if (runs == 1) {
                output.text = '{"cluster":"web-prod","serverGroup":"web-prod-v001"}'
                return 0
            }
            return 1   // the second run dies before writing its output
        }

        h.runScriptText("blueGreenDeploy(cluster: 'web-prod', amiId: 'ami-0123456789abcdef0', ledger: 's3://l/p')")
        String message = null
        try {
            h.runScriptText("bluegreenStage('deploy', [cluster: 'web-prod'])")
        } catch (PipelineError e) {
            message = e.message
        }

        assertNotNull('the second run failed', message)
        assertTrue(message, message.startsWith('bluegreen deploy: failed (exit 1) and wrote no output file'))
        assertEquals([false, false], outputExistedBefore)
        List<String> inputs = h.callsTo('writeFile')*.named*.file.findAll { it.endsWith('.in.json') }
        assertEquals(2, inputs.unique().size())
    }

    @Test
    void theRunnerRemovesTheOutputFileBeforeNodeRuns() {
        Script runner = h.loadVar('bluegreenStage')
        assertEquals('rm -f "$BLUEGREEN_OUTPUT"\nnode "$BLUEGREEN_BUNDLE" --input "$BLUEGREEN_INPUT" --output "$BLUEGREEN_OUTPUT"\n',
                     runner.RUN_STAGE_SH)
    }

    // ---------------------------------------------------------------- 3: no Pipeline Utility Steps

    @Test
    void runsWithoutPipelineUtilityStepsAndReturnsPlainSerializableMaps() {
        h.removeStep('readJSON')
        h.removeStep('writeJSON')
        runBundlesForReal(h)

        Map out = runStage('echo', [nested: [list: [1, 'two', [three: 3]], empty: [:]]])

        assertEquals([list: [1, 'two', [three: 3]], empty: [:]], out.input.nested)
        assertEquals(LinkedHashMap, out.getClass())
        assertEquals(ArrayList, out.input.nested.list.getClass())
        assertEquals(LinkedHashMap, out.input.nested.list[2].getClass())
        new ObjectOutputStream(OutputStream.nullOutputStream()).writeObject(out)
    }

    // ---------------------------------------------------------------- 4: encoding

    @Test
    void bundlesAreWrittenByteForByteWhateverTheControllersDefaultEncoding() {
        runBundlesForReal(h)

        runStage('echo', [:])

        byte[] resource = new File(h.repoRoot, 'test/groovy/fixtures/resources/bluegreen/echo.js').bytes
        byte[] written = new File("${h.env.WORKSPACE_TMP}/bluegreen/1/echo.js").bytes
        assertTrue('the fixture holds non-ASCII text', new String(resource, 'UTF-8').contains('żółw'))
        assertArrayEquals(resource, written)
        assertTrue(h.callLog(), h.callsTo('libraryResource').every { it.named.encoding == 'UTF-8' })
    }

    // ---------------------------------------------------------------- 5: best-effort prune

    @Test
    void aPruneThatFailsDoesNotStopTheStep() {
        File old = new File("${h.env.WORKSPACE_TMP}/bluegreen/0/echo.js")
        old.parentFile.mkdirs()
        old.text = 'stale'
        fakeBin('v20.11.1', [find: 'echo "find: cannot delete: Permission denied" >&2; exit 1'])
        h.onSh({ ShCall c -> isNodeCheck(c) }) { ShCall c -> h.realSh(c) }
        stubStage(h, 'echo', 0, [ok: true])

        assertEquals([ok: true], runStage('echo', [:]))
        assertEquals(0, h.callCount('error'))
    }

    // ---------------------------------------------------------------- 6: exit 127

    @Test
    void exit127SaysNodeIsMissingAndHowToProvideIt() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 127, null)

        String message = stageError('echo', [:])

        assertTrue(message, message.startsWith('bluegreen echo: node is missing on this agent (exit 127): '))
        assertTrue(message, message.contains("nodejs('node20')"))
        assertTrue(message, message.contains('PATH'))
    }
}
