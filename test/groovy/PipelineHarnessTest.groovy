import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/** The harness itself: what later tests (other vars, Jenkinsfiles) rely on. */
class PipelineHarnessTest {

    private PipelineHarness h

    @Before
    void setUp() {
        h = new PipelineHarness()
    }

    @After
    void tearDown() {
        h.close()
    }

    @Test
    void stepsAreRecordedWithTheirArguments() {
        h.runScriptText('''
            echo 'hello'
            timeout(time: 5, unit: 'MINUTES') {
                lock('web-prod') { milestone(1) }
            }
        ''')

        assertEquals(['echo', 'timeout', 'lock', 'milestone'], h.calls*.name)
        assertEquals([time: 5, unit: 'MINUTES'], h.callsTo('timeout')[0].named)
        assertEquals('web-prod', h.callsTo('lock')[0].arg('resource'))
        assertEquals('hello\n', h.console.toString())
    }

    @Test
    void anUnexpectedShCallFailsTheTest() {
        try {
            h.runScriptText("sh 'make deploy'")
            fail('expected an AssertionError')
        } catch (AssertionError e) {
            assertTrue(e.message.contains('make deploy'))
        }
    }

    @Test
    void shCanBeScriptedOrReal() {
        h.onSh('scripted') { ShCall c -> [status: 0, stdout: 'canned'] }
        h.onSh('printf') { ShCall c -> h.realSh(c) }

        Object result = h.runScriptText('''
            def a = sh(script: 'scripted thing', returnStdout: true)
            def b = withEnv(['GREETING=hi there']) {
                sh(script: 'printf "%s in %s" "$GREETING" "$(basename "$PWD")"', returnStdout: true)
            }
            def c = sh(script: 'printf x; exit 4', returnStatus: true)
            return [a, b, c]
        ''')

        assertEquals(['canned', "hi there in ${h.workspace.name}".toString(), 4], result)
    }

    @Test
    void aFailingShWithoutReturnStatusThrows() {
        h.onSh('false') { ShCall c -> h.realSh(c) }
        try {
            h.runScriptText("sh 'false'")
            fail('expected a failure')
        } catch (PipelineError e) {
            assertEquals('script returned exit code 1', e.message)
        }
    }

    @Test
    void withEnvRestoresTheEnvironmentAndPrependsPathEntries() {
        String path = h.env.PATH
        Object inside = h.runScriptText('''
            withEnv(['PATH+TOOL=/opt/tool/bin', 'X=1']) { return [env.PATH, env.X] }
        ''')

        assertEquals(["/opt/tool/bin:${path}".toString(), '1'], inside)
        assertEquals(path, h.env.PATH)
        assertNull(h.env.X)
    }

    @Test
    void filesLiveInARealWorkspaceAndDirChangesIt() {
        Object read = h.runScriptText('''
            dir('sub') { writeFile(file: 'a.txt', text: 'A') }
            writeJSON(file: 'b.json', json: [k: [1, 2]])
            return [fileExists('sub/a.txt'), readFile('sub/a.txt'), readJSON(file: 'b.json', returnPojo: true),
                    pwd(tmp: true)]
        ''')

        assertEquals([true, 'A', [k: [1, 2]], "${h.workspace.path}@tmp".toString()], read)
    }

    @Test
    void errorThrowsWithTheMessage() {
        try {
            h.runScriptText("error 'stop here'")
            fail('expected a failure')
        } catch (PipelineError e) {
            assertEquals('stop here', e.message)
        }
    }

    @Test
    void varsResolveToTheRealScriptsOncePerBuild() {
        Object first = h.loadVar('bluegreenStage')
        assertSame(first, h.loadVar('bluegreenStage'))
        h.nextBuild()
        assertNotSame(first, h.loadVar('bluegreenStage'))
        assertEquals('2', h.env.BUILD_NUMBER)
    }

    @Test
    void inputAnswersAreTakenInOrder() {
        h.inputAnswers << 'yes'
        Object answers = h.runScriptText("[input(message: 'go?'), input(message: 'again?')]")

        assertEquals(['yes', null], answers)
    }
}
