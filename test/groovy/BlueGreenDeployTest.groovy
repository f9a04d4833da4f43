import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/** vars/blueGreenDeploy.groovy: defaults from the build, validation, then the deploy stage. */
class BlueGreenDeployTest {

    private static final Map DEPLOYED = [cluster: 'web-prod', serverGroup: 'web-prod-v002', previousServerGroup: 'web-prod-v001',
                                         amiId: 'ami-0123456789abcdef0', deploymentId: 'd-1', status: 'succeeded']

    private PipelineHarness h

    @Before
    void setUp() {
        h = scriptedHarness()
        stubStage(h, 'deploy', 0, DEPLOYED)
        h.env.GIT_COMMIT = '0123abcd'
    }

    @After
    void tearDown() {
        h.close()
    }

    private String deployError(Map args) {
        return BluegreenTestSupport.stepError(h, 'blueGreenDeploy', args)
    }

    @Test
    void runsTheDeployStageWithBuildUrlAndCommitFromTheBuild() {
        Map out = (Map) h.runScriptText('''
            blueGreenDeploy(app: 'web', stack: 'prod', amiId: 'ami-0123456789abcdef0',
                            ledger: 's3://deploy-ledger/bluegreen', capacity: [min: 2, max: 4, desired: 2])
        ''')

        assertEquals(DEPLOYED, out)
        // The deploy bundle, then the JUnit report's (run on the deploy's output).
        assertEquals(['bluegreen/deploy.js', 'bluegreen/junit-report.js'], h.callsTo('libraryResource')*.arg('resource'))
        assertEquals('bluegreen deploy web-prod → ami-0123456789abcdef0', stageRuns(h)[0].named.label)
        assertEquals([app: 'web', stack: 'prod', amiId: 'ami-0123456789abcdef0', ledger: 's3://deploy-ledger/bluegreen',
                      capacity: [min: 2, max: 4, desired: 2],
                      buildUrl: 'https://jenkins.example/job/test-job/1/', gitCommit: '0123abcd'], stageInput(h))
    }

    @Test
    void givenBuildUrlAndCommitWin() {
        h.loadVar('blueGreenDeploy').call(cluster: 'web-prod', amiId: 'ami-0123456789abcdef0', ledger: [bucket: 'l'],
                                          buildUrl: 'https://other/1/', gitCommit: 'feed')

        assertEquals([cluster: 'web-prod', amiId: 'ami-0123456789abcdef0', ledger: [bucket: 'l'],
                      buildUrl: 'https://other/1/', gitCommit: 'feed'], stageInput(h))
    }

    @Test
    void withoutGitCommitInTheEnvironmentTheKeyIsLeftOut() {
        h.env.remove('GIT_COMMIT')

        h.loadVar('blueGreenDeploy').call(cluster: 'web-prod', amiId: 'ami-0123456789abcdef0', ledger: 's3://l')

        assertFalse(stageInput(h).containsKey('gitCommit'))
    }

    @Test
    void requiredParametersAreNamed() {
        assertEquals('blueGreenDeploy: give app: (with optional stack: and detail:) or cluster:',
                     deployError(amiId: 'ami-0123456789abcdef0', ledger: 's3://l'))
        assertEquals('blueGreenDeploy: amiId is required: the AMI to deploy, e.g. the amiId output of bakeAmi',
                     deployError(app: 'web', ledger: 's3://l'))
        assertEquals(ledgerRequired('blueGreenDeploy'),
                     deployError(app: 'web', amiId: 'ami-0123456789abcdef0'))
    }

    @Test
    void clusterTogetherWithAppIsAnError() {
        assertEquals('blueGreenDeploy: give either cluster: or app:/stack:/detail:, not both',
                     deployError(cluster: 'web-prod', app: 'web', amiId: 'ami-0123456789abcdef0', ledger: 's3://l'))
    }

    @Test
    void aRolledBackDeployIsOneErrorWithTheStagesMessage() {
        stubStage(h, 'deploy', 1, [error: [code: 'HealthTimeout',
            message: 'web-prod-v003 was not healthy within 20s. Rolled back automatically: web-prod-v003 removed']])

        try {
            h.loadVar('blueGreenDeploy').call(cluster: 'web-prod', amiId: 'ami-0123456789abcdef0', ledger: 's3://l')
            fail('expected error()')
        } catch (PipelineError e) {
            assertEquals('bluegreen deploy: failed (exit 1): web-prod-v003 was not healthy within 20s. ' +
                         'Rolled back automatically: web-prod-v003 removed', e.message)
        }
    }
}
