import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/** A declarative Jenkinsfile run through the harness's pipeline { } stubs with the real vars. */
class JenkinsfileTest {

    private static final String JENKINSFILE = 'test/groovy/fixtures/Jenkinsfile.status'

    private PipelineHarness h

    @Before
    void setUp() {
        h = scriptedHarness()
        stubStage(h, 'status', 0, [cluster: 'web-prod', serverGroups: [[name: 'web-prod-v001']]])
    }

    @After
    void tearDown() {
        h.close()
    }

    private List<String> statuses() {
        return h.stageResults.collect { "${it.name}: ${it.status}".toString() }
    }

    @Test
    void onMainEveryStageRunsAfterTheInput() {
        h.env.BRANCH_NAME = 'main'
        h.inputAnswers << null

        h.runScript(JENKINSFILE)

        assertEquals("console:\n${h.console}", 'SUCCESS', h.currentBuild.result)
        assertEquals(['Status: SUCCESS', 'Deploy: SUCCESS', 'Never without a cluster: SKIPPED', 'After: SUCCESS'],
                     statuses())
        assertEquals([app: 'web', stack: 'prod'], stageInput(h))
        assertEquals([message: 'Deploy web-prod?', ok: 'Deploy'], h.callsTo('input')[0].named)
        assertEquals([time: 20, unit: 'MINUTES'], h.callsTo('options.timeout')[0].named)
        String console = h.console
        assertTrue(console, console.contains('cluster web-prod has 1 server groups'))
        assertTrue(console, console.contains('result: SUCCESS\nall good'))
    }

    @Test
    void offMainTheDeployStageIsSkipped() {
        h.env.BRANCH_NAME = 'feature/x'

        h.runScript(JENKINSFILE)

        assertEquals(['Status: SUCCESS', 'Deploy: SKIPPED', 'Never without a cluster: SKIPPED', 'After: SUCCESS'],
                     statuses())
        assertEquals(0, h.callCount('input'))
    }

    @Test
    void aStepErrorFailsTheStageSkipsTheRestAndRunsPost() {
        h.env.BRANCH_NAME = 'feature/x'
        h.env.BREAK_IT = 'yes'

        h.runScript(JENKINSFILE)

        assertEquals('FAILURE', h.currentBuild.result)
        assertEquals(['Status: SUCCESS', 'Deploy: SKIPPED', 'Never without a cluster: FAILURE', 'After: SKIPPED'],
                     statuses())
        assertEquals('deploymentStatus: give app: (with optional stack: and detail:) or cluster:', h.pipelineError.message)
        String console = h.console
        assertTrue(console, console.contains('status failed'))
        assertTrue(console, console.contains('result: FAILURE\nit failed'))
        assertFalse(console, console.contains('all good'))
    }

    @Test
    void parametersGetTheirDefaultsUnlessGiven() {
        h.params.STACK = 'staging'

        h.runScript(JENKINSFILE)

        assertEquals([STACK: 'staging', DRY_RUN: false], h.params)
        assertEquals([app: 'web', stack: 'staging'], stageInput(h))
    }

    @Test
    void anUnknownStepFailsLikeJenkins() {
        try {
            h.runScriptText('''
                pipeline {
                    agent any
                    stages { stage('x') { steps { noSuchStep 'a' } } }
                }
            ''')
            fail('expected NoSuchMethodError')
        } catch (NoSuchMethodError e) {
            assertEquals("No such DSL method 'noSuchStep' found among steps", e.message)
        }
    }

    @Test
    void parallelStagesAllRun() {
        h.runScriptText('''
            pipeline {
                agent none
                stages {
                    stage('checks') {
                        parallel {
                            stage('a') { steps { echo 'a' } }
                            stage('b') { steps { error 'b broke' } }
                            stage('c') { steps { echo 'c' } }
                        }
                    }
                }
            }
        ''')

        assertEquals(['checks: FAILURE', 'a: SUCCESS', 'b: FAILURE', 'c: SUCCESS'], statuses())
        assertEquals('FAILURE', h.currentBuild.result)
    }
}
