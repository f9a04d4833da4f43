import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/** vars/deploymentStatus.groovy: validation, then the shared runner with the status stage. */
class DeploymentStatusTest {

    private PipelineHarness h

    @Before
    void setUp() {
        h = scriptedHarness()
        stubStage(h, 'status', 0, [cluster: 'web-prod', serverGroups: []])
    }

    @After
    void tearDown() {
        h.close()
    }

    private String statusError(Map args) {
        return BluegreenTestSupport.stepError(h, 'deploymentStatus', args, true)
    }

    @Test
    void appStackAndRegionGoToTheStatusStage() {
        Map status = (Map) h.runScriptText("deploymentStatus(app: 'web', stack: 'prod', region: 'us-east-1')")

        assertEquals([cluster: 'web-prod', serverGroups: []], status)
        assertEquals(['bluegreen/status.js'], h.callsTo('libraryResource')*.arg('resource'))
        assertEquals([app: 'web', stack: 'prod', region: 'us-east-1'], stageInput(h))
    }

    @Test
    void aClusterNameWorksAsMapOrString() {
        h.runScriptText("deploymentStatus(cluster: 'web-prod')")
        h.runScriptText("deploymentStatus('web-prod')")

        assertEquals([cluster: 'web-prod'], stageInput(h, 1))
        assertEquals([cluster: 'web-prod'], stageInput(h, 2))
        assertEquals('node checked once for both calls', 1,
                     h.callsTo('sh').count { it.named.script.contains('command -v node') })
    }

    @Test
    void nullsAreDroppedAndOtherKeysPassThrough() {
        h.runScriptText("deploymentStatus(app: 'web', stack: null, history: 5)")

        assertEquals([app: 'web', history: 5], stageInput(h))
    }

    @Test
    void neitherAppNorClusterIsAnError() {
        assertEquals('deploymentStatus: give app: (with optional stack: and detail:) or cluster:',
                     statusError(stack: 'prod', region: 'us-east-1'))
        assertEquals(0, h.callCount('sh'))
    }

    @Test
    void noArgumentsAtAllIsTheSameError() {
        try {
            h.runScriptText('deploymentStatus()')
            fail('expected error()')
        } catch (PipelineError e) {
            assertEquals('deploymentStatus: give app: (with optional stack: and detail:) or cluster:', e.message)
        }
    }

    @Test
    void clusterTogetherWithAppIsAnError() {
        assertEquals('deploymentStatus: give either cluster: or app:/stack:/detail:, not both',
                     statusError(cluster: 'web-prod', stack: 'prod'))
        assertEquals(0, h.callCount('sh'))
    }

    @Test
    void theCallersMapIsNotChanged() {
        Map args = [app: 'web', stack: null]
        h.loadVar('deploymentStatus').call(args)

        assertEquals([app: 'web', stack: null], args)
    }

    @Test
    void aStageFailureSurfacesAsTheRunnersError() {
        stubStage(h, 'status', 2, [error: [code: 'BAD_INPUT', field: 'region', message: 'not a region: "mars-1"']])

        assertEquals('bluegreen status: bad input (exit 2): region: not a region: "mars-1"',
                     statusError(app: 'web', region: 'mars-1'))
    }
}
