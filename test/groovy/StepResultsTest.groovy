import static BluegreenTestSupport.*
import static org.junit.Assert.*

import groovy.util.XmlSlurper
import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * Results on the build page: each step's summary line (Badge plugin when installed, detected without
 * failing when not; else the build description), its output and report archived, a deploy's checks
 * as JUnit XML (rendered by the real junit-report bundle) recorded with junit, and a label on sh.
 */
class StepResultsTest {

    private static final Map DEPLOYED = [cluster: 'web-prod', status: 'succeeded', serverGroup: 'web-prod-v004',
        previousServerGroup: 'web-prod-v003', amiId: 'ami-0123456789abcdef0',
        targetGroups: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef'],
        disabledServerGroups: ['web-prod-v003'], destroyedServerGroups: [],
        // The stage's own line (src/stages/list.ts, unit-tested there): the runner shows it as it is.
        summary: 'bluegreen deploy web-prod: web-prod-v004 serving ami-0123456789abcdef0 (1.4.0), was web-prod-v003']
    private static final Map DEPLOY_ARGS = [app: 'web', stack: 'prod', amiId: 'ami-0123456789abcdef0', version: '1.4.0',
                                            ledger: 's3://my-deploy-ledger/bluegreen']

    private PipelineHarness h

    @Before
    void setUp() {
        h = scriptedHarness()
    }

    @After
    void tearDown() {
        h.close()
    }

    private List<String> archived() {
        return h.callsTo('archiveArtifacts')*.named*.artifacts.collectMany { it.tokenize(',') }
    }

    @Test
    void withTheBadgePluginEachStepAddsOneSummaryLine() {
        List<Map> summaries = []
        h.registerStep('addSummary') { StepCall c -> summaries << c.named; null }
        stubStage(h, 'deploy', 0, DEPLOYED)

        h.loadVar('blueGreenDeploy').call(DEPLOY_ARGS)

        assertEquals(1, summaries.size())
        assertEquals('bluegreen deploy web-prod: web-prod-v004 serving ami-0123456789abcdef0 (1.4.0), was web-prod-v003',
                     summaries[0].text)
        assertNull('the description is left to the job', h.currentBuild.description)
        assertEquals('bluegreen deploy web-prod → ami-0123456789abcdef0 (1.4.0)', stageRuns(h)[0].named.label)
    }

    @Test
    void withBadge1OnlyTheOlderStepIsUsed() {
        List<Map> summaries = []
        h.registerStep('createSummary') { StepCall c -> summaries << c.named; null }
        stubStage(h, 'status', 0, [cluster: 'web-prod', serverGroups: [[name: 'web-prod-v004']], active: 'web-prod-v004',
                                   summary: 'bluegreen status web-prod: 1 server group(s), serving web-prod-v004'])

        h.loadVar('deploymentStatus').call('web-prod')

        assertEquals(['bluegreen status web-prod: 1 server group(s), serving web-prod-v004'], summaries*.text)
    }

    @Test
    void withoutTheBadgePluginTheLinesGoToTheDescriptionAndNothingFails() {
        h.currentBuild.description = 'set by the job'
        stubStage(h, 'deploy', 0, DEPLOYED)

        h.loadVar('blueGreenDeploy').call(DEPLOY_ARGS)
        h.loadVar('blueGreenDeploy').call(DEPLOY_ARGS)

        assertEquals(['set by the job'] + ['bluegreen deploy web-prod: web-prod-v004 serving ami-0123456789abcdef0 (1.4.0), ' +
                                           'was web-prod-v003'] * 2,
                     h.currentBuild.description.toString().readLines())
    }

    @Test
    void theOutputAReportAndTheDeploysJUnitChecksAreArchivedAndRecorded() {
        stubStage(h, 'deploy', 0, DEPLOYED)

        h.loadVar('blueGreenDeploy').call(DEPLOY_ARGS)

        List<String> files = archived()
        assertEquals(3, files.size())
        assertTrue(files.toString(), files.every { it ==~ /bluegreen-results\/1\/deploy-[0-9a-f]{8}\.(json|txt|junit\.xml)/ })
        String report = new File(h.workspace, files.find { it.endsWith('.txt') }).getText('UTF-8')
        assertTrue(report, report.startsWith('bluegreen deploy web-prod: web-prod-v004 serving'))
        assertTrue(report, report.contains('\nserverGroup: web-prod-v004\n'))
        assertTrue(report, report.contains('\ndisabledServerGroups: web-prod-v003\n'))
        File xml = new File(h.workspace, files.find { it.endsWith('.junit.xml') })
        def suites = new XmlSlurper().parse(xml)
        assertEquals('2', suites.@tests.text())
        assertEquals('0', suites.@failures.text())
        assertEquals(['web-prod-v004 healthy in target group web-tg', 'web-prod-v003 drained and disabled'],
                     suites.testsuite.testcase*.@name*.text())
        assertEquals([files.find { it.endsWith('.junit.xml') }], h.callsTo('junit')*.named*.testResults)
    }

    @Test
    void aFailedStepStillLeavesItsLineItsErrorOutputAndAFailedJUnitCase() {
        List<String> summaries = []
        h.registerStep('addSummary') { StepCall c -> summaries << (c.named.text as String); null }
        stubStage(h, 'deploy', 1, [error: [code: 'HealthTimeout', message: 'web-prod-v004 was not healthy within 600s; rolled back']])

        String message = stepError(h, 'blueGreenDeploy', DEPLOY_ARGS, true)

        assertEquals('bluegreen deploy: failed (exit 1): web-prod-v004 was not healthy within 600s; rolled back', message)
        assertEquals([message], summaries)
        File xml = new File(h.workspace, archived().find { it.endsWith('.junit.xml') })
        def suites = new XmlSlurper().parse(xml)
        assertEquals('1', suites.@failures.text())
        assertEquals('HealthTimeout', suites.testsuite.testcase.failure.@type.text())
    }

    @Test
    void aFailedCanaryPutsOneLinePerMetricUnderItsLineInTheSummaryAndTheReport() {
        List<String> summaries = []
        h.registerStep('addSummary') { StepCall c -> summaries << (c.named.text as String); null }
        List<String> detail = ['canary 10% errorRate: 20.1 % vs 0.0 %, fail (step score 0, fail)',
                               'canary 10% latencyP50: 12 ms vs 11 ms, pass (step score 0, fail)']
        Map metric = [name: 'errorRate', verdict: 'fail', canary: 0.201, baseline: 0, reason: 'p < 0.001']
        stubStage(h, 'deploy', 1, [
            error: [code: 'VerificationFailed', message: 'web-prod-v004 failed its canary at 10%',
                    verification: [steps: [[step: '10%', verdict: 'failed',
                                            analysis: [score: 0, verdict: 'fail', metrics: [metric]]]]]],
            // Written by the stage (src/stages/canary-summary.ts, unit-tested there): the runner shows it as it is.
            summaryDetail: detail])

        String message = stepError(h, 'blueGreenDeploy', DEPLOY_ARGS, true)

        assertEquals([message] + detail, summaries)
        String report = new File(h.workspace, archived().find { it.endsWith('.txt') }).getText('UTF-8')
        assertTrue(report, report.startsWith("${message}\n${detail.join('\n')}\n"))
        assertFalse('listed once', report.contains('summaryDetail'))
        def suites = new XmlSlurper().parse(new File(h.workspace, archived().find { it.endsWith('.junit.xml') }))
        assertTrue(suites.testsuite.testcase*.@name*.text().contains('canary 10% errorRate: fail'))
    }

    @Test
    void withoutTheJUnitPluginTheReportIsStillArchived() {
        h.removeStep('junit')
        stubStage(h, 'deploy', 0, DEPLOYED)

        h.loadVar('blueGreenDeploy').call(DEPLOY_ARGS)

        assertEquals(1, archived().count { it.endsWith('.junit.xml') })
        assertTrue(h.console.toString(), h.console.toString().contains('the JUnit plugin is not installed'))
    }
}
