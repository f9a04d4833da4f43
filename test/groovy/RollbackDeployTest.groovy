import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/** vars/rollbackDeploy.groovy and vars/deploymentHistory.groovy: validation, defaults, then the shared runner. */
class RollbackDeployTest {

    private static final Map LEDGER = [bucket: 'my-deploy-ledger']

    private PipelineHarness h

    @Before
    void setUp() {
        h = scriptedHarness()
        stubStage(h, 'rollback', 0, [cluster: 'web-prod', rolledBackFrom: 'web-prod-v002', restoredServerGroup: 'web-prod-v001',
                                     mode: 'reenable'])
        stubStage(h, 'history', 0, [cluster: 'web-prod', records: [], lock: null])
    }

    @After
    void tearDown() {
        h.close()
    }


    @Test
    void rollbackDefaultsToPreviousAndRecordsTheBuildUrl() {
        h.env.BUILD_URL = 'https://ci.example.com/job/web-rollback/7/'
        Map result = (Map) h.runScriptText("rollbackDeploy(cluster: 'web-prod', ledger: [bucket: 'my-deploy-ledger'], reason: 'INC-1')")

        assertEquals('web-prod-v001', result.restoredServerGroup)
        assertEquals(['bluegreen/rollback.js'], h.callsTo('libraryResource')*.arg('resource'))
        assertEquals([cluster: 'web-prod', ledger: LEDGER, reason: 'INC-1', to: 'previous',
                      buildUrl: 'https://ci.example.com/job/web-rollback/7/'], stageInput(h))
    }

    @Test
    void rollbackPassesAnExplicitTargetAndOtherKeysAsGiven() {
        h.runScriptText("rollbackDeploy(app: 'web', stack: 'prod', ledger: [bucket: 'my-deploy-ledger'], to: '1.4.2', " +
                        "buildUrl: 'https://x/1/', scaleDownDelay: '15m', plan: true)")

        assertEquals([app: 'web', stack: 'prod', ledger: LEDGER, to: '1.4.2', buildUrl: 'https://x/1/', scaleDownDelay: '15m', plan: true],
                     stageInput(h))
    }

    @Test
    void rollbackRefusesMissingOrAmbiguousInputBeforeRunningAnything() {
        assertEquals('rollbackDeploy: give app: (with optional stack: and detail:) or cluster:',
                     stepError(h, 'rollbackDeploy', [ledger: LEDGER]))
        h.nextBuild()
        assertEquals('rollbackDeploy: give either cluster: or app:/stack:/detail:, not both',
                     stepError(h, 'rollbackDeploy', [cluster: 'web-prod', app: 'web', ledger: LEDGER]))
        h.nextBuild()
        assertEquals(ledgerRequired('rollbackDeploy'),
                     stepError(h, 'rollbackDeploy', [cluster: 'web-prod']))
    }

    @Test
    void aFailedRollbackIsOneErrorWithTheStagesMessage() {
        stubStage(h, 'rollback', 3, [error: [code: 'NothingToRollBack', message: 'web-prod-v000 is the first release of web-prod',
                                             exitCode: 3]])
        try {
            h.runScriptText("rollbackDeploy(cluster: 'web-prod', ledger: [bucket: 'b1234'])")
            fail('expected error()')
        } catch (PipelineError e) {
            assertTrue(e.message, e.message.contains('web-prod-v000 is the first release of web-prod'))
        }
    }

    @Test
    void historyGoesToTheHistoryStage() {
        Map history = (Map) h.runScriptText("deploymentHistory(cluster: 'web-prod', ledger: [bucket: 'my-deploy-ledger'], limit: 5)")

        assertEquals([], history.records)
        assertEquals(['bluegreen/history.js'], h.callsTo('libraryResource')*.arg('resource'))
        assertEquals([cluster: 'web-prod', ledger: LEDGER, limit: 5], stageInput(h))
    }

    @Test
    void historyNeedsAClusterAndALedger() {
        assertEquals('deploymentHistory: give app: (with optional stack: and detail:) or cluster:',
                     stepError(h, 'deploymentHistory', [ledger: LEDGER]))
        h.nextBuild()
        assertEquals(ledgerRequired('deploymentHistory'),
                     stepError(h, 'deploymentHistory', [app: 'web']))
    }
}
