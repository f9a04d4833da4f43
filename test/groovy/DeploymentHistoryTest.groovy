import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/** vars/deploymentHistory.groovy (the same file as the rollback branch's): validation, then the history stage. */
class DeploymentHistoryTest {

    private static final Map HISTORY = [cluster: 'web-prod', ledger: [bucket: 'deploy-ledger', prefix: 'bluegreen'],
                                        records: [[kind: 'deploy', result: 'succeeded', serverGroup: 'web-prod-v002']],
                                        lock: null]

    private PipelineHarness h

    @Before
    void setUp() {
        h = scriptedHarness()
        stubStage(h, 'history', 0, HISTORY)
    }

    @After
    void tearDown() {
        h.close()
    }

    private String historyError(Map args) {
        return BluegreenTestSupport.stepError(h, 'deploymentHistory', args)
    }

    @Test
    void runsTheHistoryStageAndReturnsItsRecords() {
        Map out = (Map) h.runScriptText(
            "deploymentHistory(app: 'web', stack: 'prod', ledger: 's3://deploy-ledger/bluegreen', limit: 5)")

        assertEquals(HISTORY, out)
        assertEquals(['bluegreen/history.js'], h.callsTo('libraryResource')*.arg('resource'))
        assertEquals([app: 'web', stack: 'prod', ledger: 's3://deploy-ledger/bluegreen', limit: 5], stageInput(h))
    }

    @Test
    void requiredParametersAreNamed() {
        assertEquals('deploymentHistory: give app: (with optional stack: and detail:) or cluster:',
                     historyError(ledger: 's3://l'))
        assertEquals(ledgerRequired('deploymentHistory'),
                     historyError(cluster: 'web-prod'))
        assertEquals('deploymentHistory: give either cluster: or app:/stack:/detail:, not both',
                     historyError(cluster: 'web-prod', stack: 'prod', ledger: 's3://l'))
    }
}
