import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/** vars/bluegreenStage.groovy: the shared runner every bluegreen step goes through. */
class BluegreenStageTest {

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

    /** Runs the stage expecting the one error() of the runner; returns its message. */
    private String stageError(String stage, Map params, Map options = [:]) {
        try {
            h.loadVar('bluegreenStage').call(stage, params, options)
        } catch (PipelineError e) {
            assertEquals("one error() call, calls:\n${h.callLog()}", 1, h.callCount('error'))
            assertEquals(e.message, h.callsTo('error')[0].arg('message'))
            return e.message
        }
        fail("expected error(), calls:\n${h.callLog()}")
        return null
    }

    @Test
    void runsTheBundleWithAJsonInputFileAndReturnsItsOutput() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 0, [cluster: 'web-prod', serverGroups: []])

        Map first = runStage('echo', [app: 'web', stack: 'prod', region: null])
        Map second = runStage('echo', [app: 'web', count: 2])

        assertEquals([cluster: 'web-prod', serverGroups: []], first)
        assertEquals(first, second)
        // Once per build: the bundle fetch and the Node.js check.
        assertEquals(['bluegreen/echo.js'], h.callsTo('libraryResource')*.arg('resource'))
        assertEquals(1, h.callsTo('sh').count { it.named.script.contains('command -v node') })
        // Null params are dropped; each call has its own input file.
        assertEquals([app: 'web', stack: 'prod'], stageInput(h, 1))
        assertEquals([app: 'web', count: 2], stageInput(h, 2))
        List<String> inputFiles = h.callsTo('writeFile')*.named*.file.findAll { it.endsWith('.in.json') }
        assertEquals(2, inputFiles.unique().size())

        // The bundle lands in the build's own temp dir, as UTF-8.
        StepCall bundleWrite = h.callsTo('writeFile').find { it.named.file.endsWith('/echo.js') }
        assertEquals("${h.env.WORKSPACE_TMP}/bluegreen/1/echo.js".toString(), bundleWrite.named.file)
        assertEquals('UTF-8', bundleWrite.named.encoding)
        assertTrue(new File(bundleWrite.named.file as String).text.contains('stage contract'))

        // node runs with returnStatus; paths reach it through the environment only.
        List<StepCall> runs = stageRuns(h)
        assertEquals(2, runs.size())
        for (StepCall run : runs) {
            assertEquals('rm -f "$BLUEGREEN_OUTPUT"\nnode "$BLUEGREEN_BUNDLE" --input "$BLUEGREEN_INPUT" --output "$BLUEGREEN_OUTPUT"\n',
                         run.named.script)
            assertTrue(run.named.returnStatus as boolean)
        }
        // The output is read with readFile (no Pipeline Utility Steps), as UTF-8.
        List<StepCall> outputReads = h.callsTo('readFile').findAll { it.named.file.toString().endsWith('.out.json') }
        assertEquals(2, outputReads.size())
        assertTrue(outputReads.every { it.named.encoding == 'UTF-8' })
        assertEquals(0, h.callCount('readJSON'))
        assertEquals(0, h.callCount('error'))
    }

    @Test
    void aNewBuildFetchesTheBundleAndChecksNodeAgain() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 0, [ok: true])
        runStage('echo', [:])

        h.nextBuild()
        runStage('echo', [:])

        assertEquals(1, h.callCount('libraryResource'))
        assertEquals(1, h.callsTo('sh').count { it.named.script.contains('command -v node') })
        assertTrue(h.callsTo('writeFile').any { it.named.file.endsWith('/bluegreen/2/echo.js') })
    }

    @Test
    void aBundleDeletedMidBuildIsWrittenAgain() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 0, [ok: true])
        runStage('echo', [:])
        new File("${h.env.WORKSPACE_TMP}/bluegreen/1/echo.js").delete()

        runStage('echo', [:])

        assertEquals(2, h.callCount('libraryResource'))
    }

    @Test
    void anotherAgentIsCheckedForNodeToo() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 0, [ok: true])
        runStage('echo', [:])
        h.env.NODE_NAME = 'agent-2'
        runStage('echo', [:])

        assertEquals(2, h.callsTo('sh').count { it.named.script.contains('command -v node') })
    }

    @Test
    void noNodeOnTheAgentIsOneClearError() {
        stubNodeCheck(h, null)

        assertEquals('node not found on PATH: install Node.js >= 20 or use the nodejs tool', stageError('echo', [:]))
        assertEquals(0, h.callCount('libraryResource'))
        assertEquals(0, stageRuns(h).size())
    }

    @Test
    void node18IsOneClearError() {
        stubNodeCheck(h, 'v18.1.0')

        assertEquals('bluegreen needs Node.js >= 20 on this agent; found v18.1.0', stageError('echo', [:]))
        assertEquals(0, stageRuns(h).size())
    }

    @Test
    void theRealNodeCheckScriptSpotsAnOldNode() {
        fakeNodeOnPath(h, 'v18.1.0')

        assertEquals('bluegreen needs Node.js >= 20 on this agent; found v18.1.0', stageError('echo', [:]))
    }

    @Test
    void theRealNodeCheckScriptSpotsAMissingNode() {
        fakeNodeOnPath(h, null)

        assertEquals('node not found on PATH: install Node.js >= 20 or use the nodejs tool', stageError('echo', [:]))
    }

    @Test
    void theRealNodeCheckScriptPrunesEarlierBuildsOnly() {
        File old = new File("${h.env.WORKSPACE_TMP}/bluegreen/0/echo.js")
        old.parentFile.mkdirs()
        old.text = 'stale'
        File mine = new File("${h.env.WORKSPACE_TMP}/bluegreen/1/keep.json")
        mine.parentFile.mkdirs()
        mine.text = '{}'
        runBundlesForReal(h)

        runStage('echo', [:])

        assertFalse(old.parentFile.exists())
        assertTrue(mine.exists())
    }

    @Test
    void badInputIsOneErrorWithFieldAndMessage() {
        runBundlesForReal(h)

        String message = stageError('echo', [exitWith: 2,
            error: [code: 'BAD_INPUT', field: 'amiId', message: 'must look like ami-… (got "x")']])

        assertEquals('bluegreen echo: bad input (exit 2): amiId: must look like ami-… (got "x")', message)
    }

    @Test
    void aMessageThatAlreadyStartsWithItsFieldIsNotPrefixedTwice() {
        stubNodeCheck(h)
        // What the TS stages write: InputError's message starts with the field.
        stubStage(h, 'echo', 2, [error: [code: 'BadInput', field: 'amiId', message: 'amiId: must look like ami-… (got "x")']])

        assertEquals('bluegreen echo: bad input (exit 2): amiId: must look like ami-… (got "x")', stageError('echo', [:]))
    }

    @Test
    void theFieldIsAddedWhenTheMessageStartsWithAnotherOne() {
        stubNodeCheck(h)
        // "ami: ..." must not pass for "amiId: ...", nor a field that only prefixes the message text.
        stubStage(h, 'echo', 2, [error: [code: 'BadInput', field: 'ami', message: 'amiId: unknown']])

        assertEquals('bluegreen echo: bad input (exit 2): ami: amiId: unknown', stageError('echo', [:]))
    }

    @Test
    void anEmptyFieldAddsNothing() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 2, [error: [code: 'BadInput', field: '', message: 'unknown key "amiID" (did you mean amiId?)']])

        assertEquals('bluegreen echo: bad input (exit 2): unknown key "amiID" (did you mean amiId?)', stageError('echo', [:]))
    }

    @Test
    void conflictIsOneErrorWithTheMessage() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 3, [error: [code: 'LOCKED', message: 'cluster web-prod is locked by build 41']])

        assertEquals('bluegreen echo: conflict (exit 3): cluster web-prod is locked by build 41', stageError('echo', [:]))
    }

    @Test
    void failureIsOneErrorWithTheMessage() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 1, [error: [code: 'UNHEALTHY', message: 'web-prod-v004 never got healthy; rolled back']])

        assertEquals('bluegreen echo: failed (exit 1): web-prod-v004 never got healthy; rolled back', stageError('echo', [:]))
    }

    @Test
    void anErrorWithOnlyACodeStillSaysSomething() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 1, [error: [code: 'THROTTLED']])

        assertEquals('bluegreen echo: failed (exit 1): THROTTLED', stageError('echo', [:]))
    }

    @Test
    void aMissingOutputFileIsOneErrorWithTheExitCode() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 1, null)

        String message = stageError('echo', [:])

        assertTrue(message, message.startsWith('bluegreen echo: failed (exit 1) and wrote no output file ('))
        assertTrue(message, message ==~ /.*\/bluegreen\/1\/echo-[0-9a-f]{8}\.out\.json.*/)
    }

    @Test
    void aCrashIsReportedWithItsExitCode() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 137, null)

        assertTrue(stageError('echo', [:]).startsWith('bluegreen echo: crashed (exit 137) and wrote no output file'))
    }

    @Test
    void exitZeroWithoutOutputIsAnError() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 0, null)

        assertTrue(stageError('echo', [:]).startsWith('bluegreen echo: exited 0 but wrote no output file'))
    }

    @Test
    void exitZeroWithANonObjectOutputIsAnError() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 0, [1, 2])

        assertTrue(stageError('echo', [:]).startsWith('bluegreen echo: exited 0 but its output is not a JSON object'))
    }

    @Test
    void failureWithoutAnErrorObjectSaysSo() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 2, [cluster: 'x'])

        assertTrue(stageError('echo', [:]).startsWith('bluegreen echo: bad input (exit 2) without an error in its output'))
    }

    @Test
    @SuppressWarnings('GStringExpressionWithinString')  // the ${...} must reach node unexpanded
    void awkwardValuesCrossIntactAsJsonNotThroughTheShell() {
        // The workspace path itself holds a space, a quote and a $ (see PipelineHarness).
        runBundlesForReal(h)
        h.env.AWS_SECRET_ACCESS_KEY = 'from-the-environment'
        Map params = [
            quotes: 'it\'s "quoted" `cmd` \\ back',
            dollars: '$HOME ${PATH} $(id -u) $((1+1))',
            lines: 'one\ntwo\r\nthree\ttab',
            unicode: 'ami-… żółw 🚀',
            glob: '* ? [a-z]',
            nested: [list: [1, 'two', null, true], map: [deep: '; rm -rf /']],
            number: 3.5,
            dropped: null,
        ]

        Map output = runStage('echo', params)

        Map expected = new LinkedHashMap(params)
        expected.remove('dropped')
        assertEquals(expected, output.input)
        assertEquals(['--input', '--output'], [output.argv[0], output.argv[2]])
        assertTrue('credentials stay in the environment', output.hasAwsSecretInEnv as boolean)
        // The stage runs in the workspace, so relative paths in params mean what the user meant.
        assertEquals(h.workspace.canonicalPath, new File(output.cwd as String).canonicalPath)
        assertFalse(stageRuns(h)[0].named.script.contains('quoted'))
    }

    @Test
    void credentialsNeverReachTheInputFile() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 0, [ok: true])
        h.env.AWS_SECRET_ACCESS_KEY = 'super-secret'

        runStage('echo', [app: 'web'])

        assertFalse(h.callLog().contains('super-secret'))
        assertFalse(h.console.toString().contains('super-secret'))
    }

    @Test
    void extraResourcesAreWrittenBesideTheBundleOncePerBuild() {
        runBundlesForReal(h)
        Map options = [resources: ['bluegreen/fixture/template.hbs']]

        Map first = (Map) h.loadVar('bluegreenStage').call('echo', [readResource: 'fixture/template.hbs'], options)
        h.loadVar('bluegreenStage').call('echo', [:], options)

        assertEquals('template {{ value }}\n', first.resource)
        assertEquals(['bluegreen/echo.js', 'bluegreen/fixture/template.hbs'], h.callsTo('libraryResource')*.arg('resource'))
    }

    @Test
    void resourcesOutsideTheLibrarysFolderAreRejected() {
        for (String bad : ['../etc/passwd', 'bluegreen/../x', '/abs/path', 'other/file.txt']) {
            h.close()
            h = harnessWithFixtures()
            assertEquals("bluegreenStage: resources must be paths under bluegreen/ (got '${bad}')".toString(),
                         stageError('echo', [:], [resources: [bad]]))
            assertEquals(0, h.callCount('sh'))
        }
    }

    @Test
    void aBadStageNameIsRejectedBeforeAnythingRuns() {
        assertEquals("bluegreenStage: stage must be a lower-case name such as 'deploy' (got '../x')", stageError('../x', [:]))
        assertEquals(0, h.callCount('sh'))
    }

    @Test
    void anUnknownStageFailsOnTheMissingResource() {
        stubNodeCheck(h)

        try {
            runStage('nosuchstage', [:])
            fail('expected a failure')
        } catch (PipelineError e) {
            assertEquals('No such library resource bluegreen/nosuchstage.js could be found.', e.message)
        }
    }

    @Test
    @SuppressWarnings('GStringExpressionWithinString')  // a Jenkinsfile's own GString
    void aJenkinsfileCallsTheRunnerAsAStep() {
        stubNodeCheck(h)
        stubStage(h, 'echo', 0, [serverGroup: 'web-prod-v002'])

        Object result = h.runScriptText('''
            node {
                def out = bluegreenStage('echo', [app: 'web'])
                echo "deployed ${out.serverGroup}"
                return out.serverGroup
            }
        ''')

        assertEquals('web-prod-v002', result)
        assertTrue(h.console.toString().contains('deployed web-prod-v002'))
    }
}
