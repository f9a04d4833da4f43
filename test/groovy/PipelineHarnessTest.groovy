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

    @Test
    void errorThrowsAnAbortExceptionWhichIsAnIOExceptionNotARuntimeException() {
        try {
            h.runScriptText("error 'stop here'")
            fail('expected a failure')
        } catch (hudson.AbortException e) {
            assertTrue(e instanceof IOException)
            assertFalse(e instanceof RuntimeException)
        }
    }

    @Test
    void eachCallingScriptGetsItsOwnVarInstanceWithItsOwnBinding() {
        Script fromJenkinsfile = h.loadVar('bluegreenStage')
        Script deploy = h.loadVar('blueGreenDeploy')
        Script fromDeploy = (Script) deploy.binding.getVariable('bluegreenStage')

        assertNotSame(fromJenkinsfile, fromDeploy)
        assertSame(fromDeploy, deploy.binding.getVariable('bluegreenStage'))
        assertNotSame(h.binding, fromDeploy.binding)
        h.binding.setVariable('onlyInTheJenkinsfile', 1)
        assertFalse(fromDeploy.binding.hasVariable('onlyInTheJenkinsfile'))
        assertTrue('steps and globals are seen by every script', fromDeploy.binding.hasVariable('sh') && fromDeploy.binding.hasVariable('env'))
    }

    @Test
    void withAwsAndWithCredentialsPutTheKeysIntoTheShellsEnvironment() {
        Map<String, String> seen = [:]
        h.onSh('aws') { ShCall c -> seen.putAll(c.env.findAll { k, v -> k.startsWith('AWS_') }); 0 }

        h.runScriptText("""
            withAWS(region: 'eu-west-1', credentials: 'aws-deploy') { sh 'aws sts get-caller-identity' }
        """)
        assertEquals('eu-west-1', seen.AWS_REGION)
        assertEquals('eu-west-1', seen.AWS_DEFAULT_REGION)
        assertEquals(h.awsCredentialsOf('aws-deploy').accessKeyId, seen.AWS_ACCESS_KEY_ID)
        assertEquals('secret-of-aws-deploy', seen.AWS_SECRET_ACCESS_KEY)
        assertNull('gone after the block', h.env.AWS_ACCESS_KEY_ID)

        seen.clear()
        h.runScriptText("withCredentials([aws(credentialsId: 'aws-prod')]) { sh 'aws s3 ls' }")
        assertEquals('secret-of-aws-prod', seen.AWS_SECRET_ACCESS_KEY)
    }

    @Test
    void onAWindowsAgentShFailsAndPowershellRunsThroughTheSameHandlers() {
        h.unix = false
        h.onSh('Get-Date') { ShCall c -> [stdout: "${c.shell}\n".toString()] }

        assertEquals('powershell\n', h.runScriptText("powershell(script: 'Get-Date', returnStdout: true)"))
        assertEquals(false, h.runScriptText('isUnix()'))
        try {
            h.runScriptText("sh 'Get-Date'")
            fail('sh ran on Windows')
        } catch (PipelineError e) {
            assertTrue(e.message, e.message.contains('nohup'))
        }
    }

    @Test
    void somethingNotSerializableHeldByTheProgramFailsAtTheNextStep() {
        try {
            h.runScriptText("held = new Object(); echo 'saved here'")
            fail('a non-serializable binding variable went through')
        } catch (AssertionError e) {
            assertTrue(e.message, e.message.contains("binding variable held holds a java.lang.Object"))
            assertTrue(e.message, e.message.contains('at the echo step'))
        }
    }

    @Test
    void aStepThatIsNotInstalledIsNoSuchMethodErrorInAVar() {
        h.removeStep('archiveArtifacts')
        try {
            h.loadVar('bluegreenStage').invokeMethod('archiveArtifacts', [[artifacts: 'x']] as Object[])
            fail('expected NoSuchMethodError')
        } catch (NoSuchMethodError e) {
            assertEquals("No such DSL method 'archiveArtifacts' found among steps", e.message)
        }
    }

    @Test
    void underAgentNoneAWorkspaceStepOutsideAStageAgentFails() {
        h.onSh('make') { ShCall c -> 0 }
        h.runScriptText("""
            pipeline {
                agent none
                stages {
                    stage('on an agent') {
                        agent { label 'linux' }
                        steps { sh 'make' }
                    }
                    stage('without one') { steps { sh 'make' } }
                }
            }
        """)

        assertEquals(['on an agent: SUCCESS', 'without one: FAILURE'], h.stageResults.collect { "${it.name}: ${it.status}".toString() })
        assertTrue(h.pipelineError.message, h.pipelineError.message.startsWith('Required context class hudson.FilePath is missing'))
    }
}
