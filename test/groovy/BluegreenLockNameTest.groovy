import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * vars/bluegreenLockName.groovy: the lock of the cluster the stages name, worked out by a stage bundle
 * (--names, the real bundle here), never by a rule of its own: app: 'web', detail: 'canary' is web--canary.
 */
class BluegreenLockNameTest {

    private PipelineHarness h

    @Before
    void setUp() {
        h = scriptedHarness()
    }

    @After
    void tearDown() {
        h.close()
    }

    private String lockName(Object args) {
        return h.loadVar('bluegreenLockName').invokeMethod('call', [args] as Object[])
    }

    @Test
    void theLockIsOfTheClusterTheStagesName() {
        assertEquals('bluegreen-web--canary', lockName([app: 'web', detail: 'canary']))
        assertEquals('bluegreen-web-prod-canary', lockName([app: 'web', stack: 'prod', detail: 'canary']))
        assertEquals('bluegreen-web-prod', lockName([app: 'web', stack: 'prod']))
        assertEquals('bluegreen-web-prod', lockName('web-prod'))
        assertEquals('bluegreen-web', lockName([app: 'web', stack: null]))
        assertTrue('no stage ran', stageRuns(h).isEmpty())
    }

    @Test
    void eachRegionOfAClusterHasItsOwnLock() {
        assertEquals('bluegreen-web-prod-eu-west-1', lockName([app: 'web', stack: 'prod', region: 'eu-west-1']))
        assertEquals('bluegreen-web-prod-us-east-1', lockName([cluster: 'web-prod', region: 'us-east-1']))
        assertNotEquals(lockName([cluster: 'web-prod', region: 'us-east-1']), lockName([cluster: 'web-prod', region: 'eu-west-1']))
        assertTrue('no stage ran', stageRuns(h).isEmpty())
    }

    @Test
    void aBadRegionIsOneErrorNamingTheField() {
        assertTrue(stepError(h, 'bluegreenLockName', [[app: 'web', region: 'eu west']]).startsWith('bluegreenLockName: region: '))
    }

    @Test
    void theDeployOfTheSameKeysLocksTheClusterItDeploys() {
        stubStage(h, 'deploy', 0, [cluster: 'web--canary', status: 'succeeded', serverGroup: 'web--canary-v001',
                                   amiId: 'ami-0123456789abcdef0', targetGroups: []])
        Map keys = [app: 'web', detail: 'canary']

        h.loadVar('blueGreenDeploy').call(keys + [amiId: 'ami-0123456789abcdef0', ledger: 's3://my-deploy-ledger/bluegreen'])

        assertEquals('bluegreen deploy web--canary → ami-0123456789abcdef0', stageRuns(h)[0].named.label)
        assertEquals('bluegreen-web--canary', lockName(keys))
    }

    @Test
    void noClusterIsOneErrorNamingTheField() {
        assertEquals('bluegreenLockName: app: is required (or give cluster): the application name, e.g. "web"',
                     stepError(h, 'bluegreenLockName', [[:]]))
        assertEquals('bluegreenLockName: stack: may hold only letters, digits, "." and "_" (got "prod-eu")',
                     stepError(h, 'bluegreenLockName', [[app: 'web', stack: 'prod-eu']]))
    }
}
