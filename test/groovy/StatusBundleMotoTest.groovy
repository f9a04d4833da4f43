import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * End to end through the real files: deploymentStatus -> bluegreenStage -> the real
 * resources/bluegreen/status.js run by node (sh executed for real) -> a real moto_server.
 */
class StatusBundleMotoTest {

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
    void statusOfAnUnknownClusterIsEmptyNotAnError() {
        File bundle = new File(h.repoRoot, 'resources/bluegreen/status.js')
        assertTrue("${bundle} is missing: build the status stage bundle (npm run build) before this test".toString(),
                   bundle.isFile())

        MotoServer moto = MotoServer.start()
        boolean passed = false
        try {
            h.env.putAll(moto.awsEnv)
            runBundlesForReal(h)

            Map status = (Map) h.runScriptText('''
                withAWS(region: 'us-east-1') {
                    return deploymentStatus(app: 'web', stack: 'prod', region: 'us-east-1')
                }
            ''')

            assertEquals("status output: ${status}\nconsole:\n${h.console}".toString(), 'web-prod', status.cluster)
            assertEquals([], status.serverGroups)
            assertEquals(1, stageRuns(h).size())
            assertFalse('credentials never in the input file', stageInput(h).toString().contains('testing'))
            passed = true
        } finally {
            if (!passed) {
                System.err.println("console of the failed build:\n${h.console}")
            }
            moto.stop()
        }
    }
}
