import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * The rollback job (Jenkinsfile.rollback.example) with scripted stages: who approved it reaches the
 * ledger input, and it takes the deploy job's lock for the same cluster. RollbackJobSandboxTest runs it
 * for real against the sandbox.
 */
class RollbackJobTest {

    private PipelineHarness h

    @Before
    void setUp() {
        h = scriptedHarness()
        stubStage(h, 'history', 0, [cluster: 'web-prod', records: [], lock: null])
        stubStage(h, 'rollback', 0, [cluster: 'web-prod', rolledBackFrom: 'web-prod-v002', restoredServerGroup: 'web-prod-v001',
                                     mode: 'reenable', version: 'v1', durationSeconds: 3])
        h.registerStep('choice') { StepCall c -> [kind: 'choice'] + c.named }
        h.registerStep('string') { StepCall c -> [kind: 'string'] + c.named }
        h.params.putAll(CLUSTER: 'web-prod', REGION: 'us-east-1', LEDGER_BUCKET: 'my-deploy-ledger', AWS_CREDENTIALS: 'aws-deploy')
    }

    @After
    void tearDown() {
        h.close()
    }

    @Test
    void theApproverAndTheReasonGoToTheLedger() {
        // What Jenkins answers for an input with submitterParameter: the parameters plus the submitter's id.
        h.inputAnswers << [TO: 'previous', REASON: 'v2 breaks checkout', APPROVER: 'alice']

        h.runScript('Jenkinsfile.rollback.example')

        assertEquals("console:\n${h.console}".toString(), 'SUCCESS', h.currentBuild.result)
        assertEquals('APPROVER', h.callsTo('input')[0].named.submitterParameter)
        Map rollback = stageInput(h, 2)
        assertEquals('alice', rollback.approvedBy)
        assertEquals('v2 breaks checkout', rollback.reason)
        assertEquals(h.env.BUILD_URL, rollback.buildUrl)
    }

    @Test
    void theAlarmsAndTheWatchReachTheRollback() {
        h.params.putAll(ALARMS: 'web-prod-5xx, web-prod-latency', WATCH: '10m')
        h.inputAnswers << [TO: 'previous', REASON: 'INC-8', APPROVER: 'carol']

        h.runScript('Jenkinsfile.rollback.example')

        assertEquals("console:\n${h.console}".toString(), 'SUCCESS', h.currentBuild.result)
        Map rollback = stageInput(h, 2)
        assertEquals(['web-prod-5xx', 'web-prod-latency'], rollback.alarms)
        assertEquals('10m', rollback.watch)
    }

    @Test
    void theJobTakesTheDeployJobsLockForTheCluster() {
        h.inputAnswers << [TO: 'previous', REASON: 'INC-7', APPROVER: 'bob']

        h.runScript('Jenkinsfile.rollback.example')

        // The deploy job locks bluegreenLockName(app: 'web', stack: 'prod') (JenkinsfileExampleTest): the same name.
        String deployJobsLock = h.loadVar('bluegreenLockName').call(app: 'web', stack: 'prod')
        assertEquals([deployJobsLock], h.callsTo('lock')*.named*.resource)
        assertEquals('bluegreen-web-prod', deployJobsLock)
        for (String jenkinsfile : ['Jenkinsfile.example', 'Jenkinsfile.rollback.example']) {
            String text = new File(h.repoRoot, jenkinsfile).text
            assertTrue("${jenkinsfile} builds its lock name with bluegreenLockName".toString(),
                       (text =~ /lock\(resource: bluegreenLockName\(/).find())
        }
    }

    @Test
    void aBadClusterNameIsNoLockName() {
        // The stages' own check of the name (src/core/naming.ts), through the bundle's --names.
        assertEquals('bluegreenLockName: cluster: may hold only letters, digits, ".", "_" and "-" (got "web prod")',
                     stepError(h, 'bluegreenLockName', ['web prod']))
    }
}
