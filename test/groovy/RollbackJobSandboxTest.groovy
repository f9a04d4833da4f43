import static BluegreenTestSupport.*
import static org.junit.Assert.*

import groovy.json.JsonOutput
import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * The rollback job (Jenkinsfile.rollback.example) end to end: the real vars, the real
 * history/rollback bundles run by node (sh executed for real), against the sandbox with two
 * releases deployed; the operator's input answered by the test.
 */
class RollbackJobSandboxTest {

    private SandboxProcess sandbox
    private final List<PipelineHarness> builds = []

    @Before
    void setUp() {
        PipelineHarness probe = new PipelineHarness()
        File root = probe.repoRoot
        probe.close()
        for (String bundle : ['deploy', 'history', 'rollback']) {
            assertTrue("resources/bluegreen/${bundle}.js is missing: npm run build".toString(),
                       new File(root, "resources/bluegreen/${bundle}.js").isFile())
        }
        sandbox = SandboxProcess.start(root)
    }

    @After
    void tearDown() {
        builds.each { PipelineHarness h -> h.close() }
        sandbox?.stop()
    }

    private void deploy(String version, String amiId, Map extra = [:]) {
        Map infra = sandbox.infra
        Map input = [cluster: 'web-prod', amiId: amiId, version: version, targetGroups: [infra.targetGroupName],
                     capacity: [min: 1, max: 2, desired: 1], instanceType: 't3.micro', subnets: infra.subnetIds,
                     ledger: [bucket: infra.ledgerBucket], healthTimeout: 60, drainTimeout: 30] + extra
        File file = File.createTempFile('deploy', '.json')
        file.text = JsonOutput.toJson(input)
        sandbox.run(['node', 'resources/bluegreen/deploy.js', '--input', file.path])
        file.delete()
    }

    /** One build of the rollback job; `answer` picks the input's answer from the offered choices. */
    private PipelineHarness runJob(Closure<Map> answer) {
        PipelineHarness h = new PipelineHarness()
        builds << h
        h.env.putAll(sandbox.awsEnv)
        runBundlesForReal(h)
        // Input parameters are built inside script { }: plain maps here, as Jenkins' ParameterDefinitions.
        h.registerStep('choice') { StepCall c -> [kind: 'choice'] + c.named }
        h.registerStep('string') { StepCall c -> [kind: 'string'] + c.named }
        h.registerStep('input') { StepCall c -> answer((List<String>) ((List<Map>) c.named.parameters)[0].choices) }
        // No alarm in this sandbox; a short watch (gates only) after each cutover.
        h.params.putAll(CLUSTER: 'web-prod', REGION: 'us-east-1', LEDGER_BUCKET: sandbox.infra.ledgerBucket, AWS_CREDENTIALS: '',
                        ALARMS: '', WATCH: '3s')
        h.runScript('Jenkinsfile.rollback.example')
        return h
    }

    private static List<String> statuses(PipelineHarness h) {
        return h.stageResults.collect { "${it.name}: ${it.status}".toString() }
    }

    @Test
    void theJobRollsBackToThePreviousReleaseThenForwardToTheOneChosen() {
        deploy('v1', sandbox.appAmi('v1'))
        deploy('v2', sandbox.appAmi('v2'), [scaleDownDelay: '10m'])
        assertEquals('v2', sandbox.fetch().version)

        // Build 1: the default answer, previous.
        List<String> offered = []
        PipelineHarness first = runJob { List<String> choices ->
            offered = choices
            [TO: 'previous', REASON: 'v2 breaks checkout', APPROVER: 'alice']   // APPROVER: the input's submitterParameter
        }
        assertEquals("console:\n${first.console}".toString(), 'SUCCESS', first.currentBuild.result)
        assertEquals(['History: SUCCESS', 'Choose: SUCCESS', 'Roll back: SUCCESS'], statuses(first))
        assertEquals('previous', offered[0])
        assertEquals(3, offered.size())
        assertTrue(offered.toString(), offered[1] ==~ /\d{8}T\d{6}Z-[0-9a-f]{6}  v2  web-prod-v001  ami-\w+  deploy by .*/)
        assertEquals('web-prod-v001 → web-prod-v000 (v1, reenable): v2 breaks checkout', first.currentBuild.description.toString())
        assertEquals([message: 'Roll web-prod back to which release?', ok: 'Roll back'],
                     first.callsTo('input')[0].named.subMap(['message', 'ok']))
        assertEquals(['bluegreen-web-prod'], first.callsTo('lock')*.named*.resource)
        Map rollbackInput = stageInput(first, 2)
        assertEquals([cluster: 'web-prod', region: 'us-east-1', ledger: [bucket: sandbox.infra.ledgerBucket],
                      to: 'previous', reason: 'v2 breaks checkout', approvedBy: 'alice', alarms: [], watch: '3s',
                      buildUrl: first.env.BUILD_URL], rollbackInput)
        assertEquals('v1', sandbox.fetch().version)

        // Build 2: the operator picks the v2 line from the history: roll forward to it. The history shows
        // build 1's rollback by its approver, from the ledger.
        PipelineHarness second = runJob { List<String> choices ->
            offered = choices
            [TO: choices.find { it.contains('  v2  ') }, REASON: 'fixed by a feature flag']
        }
        assertTrue(offered.toString(), offered.any { it.contains("rollback by alice via ${first.env.BUILD_URL}") })
        assertEquals("console:\n${second.console}".toString(), 'SUCCESS', second.currentBuild.result)
        assertEquals('web-prod-v000 → web-prod-v001 (v2, reenable): fixed by a feature flag', second.currentBuild.description.toString())
        assertTrue(stageInput(second, 2).to ==~ /\d{8}T\d{6}Z-[0-9a-f]{6}/)
        assertEquals('v2', sandbox.fetch().version)
    }

    @Test
    void noReasonStopsTheJobBeforeAnythingChanges() {
        deploy('v1', sandbox.appAmi('v1'))
        deploy('v2', sandbox.appAmi('v2'))
        PipelineHarness h = runJob { List<String> choices -> [TO: 'previous', REASON: '  '] }
        assertEquals('FAILURE', h.currentBuild.result)
        assertEquals(['History: SUCCESS', 'Choose: FAILURE', 'Roll back: SKIPPED'], statuses(h))
        assertEquals('Say why you roll back (REASON): it is recorded in the ledger', h.pipelineError.message)
        assertEquals(1, stageRuns(h).size())
        assertEquals('v2', sandbox.fetch().version)
    }
}
