import static BluegreenTestSupport.*
import static org.junit.Assert.*

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import java.util.concurrent.TimeUnit
import org.codehaus.groovy.runtime.InvokerHelper
import org.junit.After
import org.junit.Assume
import org.junit.Before
import org.junit.Test
import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException

/**
 * Jenkinsfile.example run through the harness's declarative stubs with the real vars/ steps; only
 * the stage bundles are scripted (sh answers with an output per stage). Checks the order of the
 * stages, that outputs flow from step to step, and that every key the Jenkinsfile (and each
 * step's defaults) passes is one the TypeScript stage accepts, read from the bundle's --help.
 */
class JenkinsfileExampleTest {

    private static final String JENKINSFILE = 'Jenkinsfile.example'
    private static final String BAKED_AMI = 'ami-0baked00000000001'
    private static final String ARTIFACT_URL = 's3://example-web-artifacts/web/1.4.0.7/web.war'

    /** Stage name -> input keys its bundle accepts (from --help), read once per JVM. */
    private static final Map<String, Set<String>> STAGE_KEYS = [:]

    private PipelineHarness h

    @Before
    void setUp() {
        h = new PipelineHarness()
        h.env.BUILD_NUMBER = '7'
        h.env.BRANCH_NAME = 'main'
        h.env.GIT_COMMIT = 'c0ffee0000000000000000000000000000000000'
        new File(h.workspace, 'VERSION').text = '1.4.0\n'
        // Stage bundles are not run (sh is scripted): any text will do as a bundle or template.
        standInBundles(h)
        stubNodeCheck(h)
        scriptStageOutputs()
        h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE == null && c.env.BLUEGREEN_NAMES_OF == null && !isNodeCheck(c) }) { ShCall c -> 0 }
        recordLibrarySteps()
    }

    @After
    void tearDown() {
        h.close()
    }

    // ---------------------------------------------------------------- helpers

    /** The vars/ steps, each bound as a recorded step that runs the real var (one instance per build). */
    private void recordLibrarySteps() {
        for (String name : libraryStepNames()) {
            Script real = InvokerHelper.createScript(PipelineHarness.compile(h.varFile(name)), h.binding)
            h.registerStep(name) { StepCall c -> real.invokeMethod('call', c.args as Object[]) }
        }
    }

    private List<String> libraryStepNames() {
        return new File(h.repoRoot, 'vars').listFiles()*.name.findAll { it.endsWith('.groovy') }*.replace('.groovy', '').sort()
    }

    /** The stage a step runs, read from its source: bluegreenStage('<stage>', ...). */
    private String stageOf(String step) {
        def match = h.varFile(step).text =~ /bluegreenStage\('([a-z-]+)'/
        return match.find() ? match.group(1) : null
    }

    /** Answers each stage run with an output built from its input, as the real stage would shape it. */
    private void scriptStageOutputs(Map<String, Integer> exitCodes = [:]) {
        h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE != null }) { ShCall c ->
            String stage = new File(c.env.BLUEGREEN_BUNDLE).name.replace('.js', '')
            if (stage == 'junit-report') {
                return h.realSh(c)   // the real (small) bundle, on the scripted deploy output
            }
            Map input = (Map) new JsonSlurper().parse(new File(c.env.BLUEGREEN_INPUT))
            Map output
            switch (stage) {
                case 'publish':
                    output = [artifactUrl: ARTIFACT_URL,
                              httpsUrl: 'https://example-web-artifacts.s3.amazonaws.com/web/1.4.0.7/web.war',
                              sha256: 'ab' * 32, size: 4096, versionId: 'v-1']
                    break
                case 'bake':
                    output = [amiId: BAKED_AMI, region: 'us-east-1',
                              amis: ['us-east-1': BAKED_AMI, 'us-west-2': 'ami-0copy000000000001'],
                              amiName: "web-${input.version}-20261126070000".toString(), packerRunUuid: 'uuid-1']
                    break
                case 'deploy':
                    String cluster = "${input.app}-${input.stack}"
                    if (input.amis) {   // a rollout to the regions of amis, one wave each, held
                        List<String> regions = (input.amis as Map).keySet() as List
                        output = [cluster: cluster, rolloutId: 'r-1', status: input.hold ? 'held' : 'succeeded',
                                  waves: regions.collect { [it] },
                                  regions: regions.collect { [region: it, status: 'held',
                                                             deploy: [serverGroup: "${cluster}-v002".toString()]] },
                                  summary: "bluegreen deploy ${cluster}: ".toString() +
                                           regions.collect { "${it} ${cluster}-v002 held" }.join('; ') + " (${input.version})"]
                        break
                    }
                    output = [cluster: cluster, serverGroup: "${cluster}-v002".toString(),
                              previousServerGroup: "${cluster}-v001".toString(),
                              amiId: input.amiId, deploymentId: "d-${input.stack}".toString(),
                              status: input.hold ? 'held' : 'succeeded',
                              // The stage's own build-page line (src/stages/list.ts).
                              summary: input.hold ?
                                  "bluegreen deploy ${cluster}: ${cluster}-v002 held for a human (${input.version}); " +
                                  "${cluster}-v001 serves".toString() :
                                  "bluegreen deploy ${cluster}: ${cluster}-v002 serving ${input.amiId} " +
                                  "(${input.version}), was ${cluster}-v001".toString()]
                    break
                case 'promote':
                    String promoted = "${input.app}-${input.stack}"
                    if (input.regions) {
                        output = [cluster: promoted, decision: 'promote',
                                  regions: input.regions.collect { [region: it, status: 'promoted',
                                                                   promote: [serverGroup: "${promoted}-v002".toString()]] },
                                  summary: "bluegreen promote ${promoted}: ".toString() +
                                           input.regions.collect { "${it} promoted ${promoted}-v002" }.join('; ')]
                        break
                    }
                    output = [cluster: promoted, serverGroup: input.serverGroup, previousServerGroup: "${promoted}-v001".toString(),
                              amiId: BAKED_AMI, deploymentId: "d-${input.stack}".toString(), status: 'succeeded',
                              summary: "bluegreen promote ${promoted}: ${input.serverGroup} serving ${BAKED_AMI}, " +
                                       "was ${promoted}-v001".toString()]
                    break
                case 'abort':
                    String aborted = "${input.app}-${input.stack}"
                    if (input.regions) {
                        output = [cluster: aborted, decision: 'abort',
                                  regions: input.regions.collect { [region: it, status: 'aborted'] },
                                  summary: "bluegreen abort ${aborted}: ".toString() +
                                           input.regions.collect { "${it} aborted" }.join('; ') + ": ${input.reason}"]
                        break
                    }
                    output = [cluster: aborted, serverGroup: input.serverGroup, previousServerGroup: "${aborted}-v001".toString(),
                              deploymentId: "d-${input.stack}".toString(), status: 'aborted',
                              summary: "bluegreen abort ${aborted}: ${input.serverGroup} removed; ${aborted}-v001 serves: " +
                                       "${input.reason}".toString()]
                    break
                default:
                    throw new AssertionError("unexpected stage ${stage}".toString())
            }
            int status = exitCodes[stage] ?: 0
            new File(c.env.BLUEGREEN_OUTPUT).setText(JsonOutput.toJson(status == 0 ? output :
                [error: [code: 'HealthTimeout', message: "${stage} went wrong; rolled back".toString()]]), 'UTF-8')
            status
        }
    }

    /** The input keys of a stage bundle: its --help options, without the framework's own. */
    private Set<String> stageKeys(String stage) {
        synchronized (STAGE_KEYS) {
            if (!STAGE_KEYS.containsKey(stage)) {
                File bundle = new File(h.repoRoot, "resources/bluegreen/${stage}.js")
                Assume.assumeTrue("resources/bluegreen/${stage}.js is not built yet: its keys cannot be checked".toString(),
                                  bundle.isFile())
                Process process = new ProcessBuilder('node', bundle.path, '--help').redirectErrorStream(true).start()
                String help = process.inputStream.getText('UTF-8')
                assertTrue('node --help finished', process.waitFor(60, TimeUnit.SECONDS))
                Set<String> keys = (help =~ /(?m)^\s+--([A-Za-z][A-Za-z0-9]*)\b/).collect { it[1] } as Set
                keys.removeAll(['help', 'input', 'output'])   // the framework's own flags, not input keys
                assertTrue("keys found in ${stage}.js --help:\n${help}".toString(), keys.contains('region'))
                STAGE_KEYS[stage] = keys
            }
            return STAGE_KEYS[stage]
        }
    }

    private List<String> statuses() {
        return h.stageResults.collect { "${it.name}: ${it.status}".toString() }
    }

    private List<StepCall> libraryCalls() {
        Set<String> names = libraryStepNames() as Set
        return h.calls.findAll { it.name in names && !(it.name in ['bluegreenStage', 'bluegreenLockName']) }
    }

    private Object run() {
        Object result = h.runScript(JENKINSFILE)
        assertNull("pipeline error: ${h.pipelineError}\nconsole:\n${h.console}".toString(), h.pipelineError)
        return result
    }

    /** Every key a library call passes, and every key its stage input holds, is one its stage accepts. */
    private void assertKeysKnown(String step) {
        List<StepCall> calls = libraryCalls().findAll { it.name == step }
        assertFalse("the Jenkinsfile calls ${step}".toString(), calls.isEmpty())
        String stage = stageOf(step)
        assertNotNull("vars/${step}.groovy runs a stage".toString(), stage)
        Set<String> known = stageKeys(stage)
        for (StepCall call : calls) {
            Set<String> unknown = (call.named.keySet() as Set<String>) - known
            assertEquals("${step} is called with keys the ${stage} stage does not take; it takes ${known.sort()}".toString(),
                         [] as Set, unknown)
        }
        List<StepCall> runs = stageRuns(h)
        for (int i = 0; i < runs.size(); i++) {
            if (stageOfRun(runs[i]) == stage) {
                Map input = stageInput(h, i + 1)
                assertEquals("the ${stage} input (with ${step}'s defaults) has keys the stage does not take".toString(),
                             [] as Set, (input.keySet() as Set<String>) - known)
            }
        }
    }

    // ---------------------------------------------------------------- tests

    /** The production input answered: Promote, by `approver` (submitterParameter). */
    private void approveProduction(String approver = 'alice') {
        h.inputAnswers << approver
    }

    /** The production input rejected ("Abort") or timed out: Jenkins interrupts the step. */
    private void rejectProduction() {
        h.registerStep('input') { StepCall c -> throw new FlowInterruptedException('rejected by bob') }
    }

    @Test
    void onMainEveryStageRunsInOrderAndOutputsFlowFromStepToStep() {
        approveProduction()

        run()

        assertEquals('SUCCESS', h.currentBuild.result)
        assertEquals(['Build and publish', 'Checkout', 'Build', 'Static analysis', 'Unit tests', 'Publish artifact', 'Bake AMI',
                      'Deploy to dev', 'Functional tests', 'Promote to QA', 'Deploy to QA', 'Smoke tests', 'Acceptance tests',
                      'Tag release', 'Deploy to production', 'Approve production', 'Promote or abort production']
                         .collect { "${it}: SUCCESS".toString() }, statuses())
        assertEquals(['publishArtifact', 'bakeAmi', 'blueGreenDeploy', 'blueGreenDeploy', 'blueGreenDeploy', 'blueGreenPromote'],
                     libraryCalls()*.name)
        assertEquals(['publish', 'bake', 'deploy', 'deploy', 'deploy', 'promote'], stageRuns(h).collect { stageOfRun(it) })
        assertEquals('bluegreen deploy web-prod → us-east-1, us-west-2 (1.4.0.7)', stageRuns(h)[4].named.label)

        Map publish = stageInput(h, 1)
        assertEquals([file: 'target/web.war', bucket: 'example-web-artifacts', keyTemplate: '{app}/{version}/{fileName}',
                      app: 'web', version: '1.4.0.7', buildNumber: '7', buildUrl: h.env.BUILD_URL, gitCommit: h.env.GIT_COMMIT],
                     publish)
        Map bake = stageInput(h, 2)
        assertEquals('the artifact URL from publishArtifact reaches bakeAmi', ARTIFACT_URL, bake.artifactUrl)
        assertEquals('linux', bake.template)
        List<Map> deploys = (3..5).collect { stageInput(h, it) }
        assertEquals(['dev', 'qa', 'prod'], deploys*.stack)
        assertEquals('the AMI id from bakeAmi reaches dev and QA', [BAKED_AMI] * 2, deploys[0..1]*.amiId)
        assertEquals('production: every region of the bake', ['us-east-1': BAKED_AMI, 'us-west-2': 'ami-0copy000000000001'],
                     deploys[2].amis)
        assertEquals([ARTIFACT_URL] * 3, deploys*.artifactUrl)
        assertEquals('no input was asked on main but production\'s', ['Send production traffic to web 1.4.0.7 (held in us-east-1, us-west-2)?'],
                     h.callsTo('input')*.named*.message.collect { it.toString() })

        // Every step archived its output and report; each deploy (and the promote) its JUnit checks, recorded with junit.
        List<String> archived = h.callsTo('archiveArtifacts')*.named*.artifacts.collectMany { it.tokenize(',') }
        assertEquals(6, archived.count { it.endsWith('.json') })
        assertEquals(6, archived.count { it.endsWith('.txt') })
        assertEquals(4, archived.count { it.endsWith('.junit.xml') })
        File bakeOutput = new File(h.workspace, archived.find { it ==~ /bluegreen-results\/7\/bake-\w+\.json/ })
        assertEquals(BAKED_AMI, new JsonSlurper().parse(bakeOutput).amiId)
        List<String> junitFiles = h.callsTo('junit')*.named*.testResults.findAll { it.endsWith('.junit.xml') }
        assertEquals(archived.findAll { it.endsWith('.junit.xml') }, junitFiles)
        // post: the release line first, then the steps' own lines (no Badge plugin here).
        List<String> description = h.currentBuild.description.toString().readLines()
        assertEquals("web 1.4.0.7 · AMI ${BAKED_AMI} · web-prod-v002, web-prod-v002".toString(), description[0])
        assertEquals(7, description.size())
        assertEquals('bluegreen deploy web-prod: us-east-1 web-prod-v002 held; us-west-2 web-prod-v002 held (1.4.0.7)',
                     description[-2])
        assertEquals('bluegreen promote web-prod: us-east-1 promoted web-prod-v002; us-west-2 promoted web-prod-v002',
                     description[-1])
        assertEquals('#7 1.4.0.7', h.currentBuild.displayName.toString())
    }

    @Test
    void productionHoldsThenAsksThenPromotesTheHeldGroupUnderMilestoneLockAndTimeout() {
        approveProduction('alice')

        run()

        List<String> order = h.calls*.name.findAll {
            it in ['input', 'milestone', 'lock', 'timeout', 'withCredentials', 'blueGreenDeploy', 'blueGreenPromote',
                   'blueGreenAbort']
        }
        assertEquals(['blueGreenDeploy', 'blueGreenDeploy', 'milestone', 'lock', 'timeout', 'withCredentials',
                      'blueGreenDeploy', 'timeout', 'input', 'lock', 'timeout', 'withCredentials', 'blueGreenPromote'], order)
        assertEquals([ordinal: 100, label: 'production'], h.callsTo('milestone')[0].named)
        assertEquals([resource: 'bluegreen-web-prod', inversePrecedence: true], h.callsTo('lock')[0].named)
        assertEquals([time: 45, unit: 'MINUTES'], h.callsTo('timeout')[0].named)
        assertEquals([[$class: 'AmazonWebServicesCredentialsBinding', credentialsId: 'aws-deploy-prod']],
                     h.callsTo('withCredentials')[0].arg('bindings'))
        Map production = stageInput(h, 5)
        assertEquals('prod', production.stack)
        assertTrue('the production deploy holds', production.hold as boolean)
        Map input = h.callsTo('input')[0].named
        assertEquals('release-managers', input.submitter)
        assertEquals('APPROVER', input.submitterParameter)
        // promote: every region of the held rollout in wave order, the approver recorded as for rollbacks,
        // nothing of the deploy again.
        Map promote = stageInput(h, 6)
        assertEquals(['us-east-1', 'us-west-2'], promote.regions)
        assertEquals('alice', promote.approvedBy)
        assertEquals(['app', 'approvedBy', 'buildUrl', 'ledger', 'regions', 'stack'], promote.keySet().sort() as List)
        assertEquals([resource: 'bluegreen-web-prod', inversePrecedence: true], h.callsTo('lock')[1].named)
        assertEquals('SUCCESS', h.currentBuild.result)
        assertKeysKnown('blueGreenPromote')
    }

    @Test
    void aRejectedOrTimedOutProductionInputAbortsTheHeldGroupAndTheBuildIsUnstable() {
        rejectProduction()

        run()

        assertEquals(['publish', 'bake', 'deploy', 'deploy', 'deploy', 'abort'], stageRuns(h).collect { stageOfRun(it) })
        Map abort = stageInput(h, 6)
        assertEquals(['us-east-1', 'us-west-2'], abort.regions)
        assertEquals('not approved for production', abort.reason)
        assertEquals(0, libraryCalls().count { it.name == 'blueGreenPromote' })
        assertEquals('UNSTABLE', h.currentBuild.result)
        assertEquals(['Approve production: SUCCESS', 'Promote or abort production: SUCCESS'], statuses()[-2..-1])
        assertTrue(h.console.toString(), h.console.toString().contains('Production not approved (rejected by bob)'))
        // The release line names no production group: what served before still serves.
        assertEquals("web 1.4.0.7 · AMI ${BAKED_AMI} · web-qa-v002".toString(), h.currentBuild.description.toString().readLines()[0])
        assertKeysKnown('blueGreenAbort')
    }

    @Test
    void offMainQaIsPromotedByHandAndProductionIsSkipped() {
        h.env.BRANCH_NAME = 'feature/cart'
        h.inputAnswers << null   // "Promote" clicked

        run()

        assertEquals(['Promote web 1.4.0.7 to QA?'], h.callsTo('input')*.named*.message)
        assertEquals([time: 4, unit: 'HOURS'], h.callsTo('timeout')[0].named)
        assertEquals(['Deploy to production: SKIPPED', 'Approve production: SKIPPED', 'Promote or abort production: SKIPPED'],
                     statuses()[-3..-1])
        assertEquals(['publish', 'bake', 'deploy', 'deploy'], stageRuns(h).collect { stageOfRun(it) })
        assertEquals(['dev', 'qa'], [stageInput(h, 3).stack, stageInput(h, 4).stack])
        assertEquals("web 1.4.0.7 · AMI ${BAKED_AMI} · web-qa-v002".toString(), h.currentBuild.description.toString().readLines()[0])
    }

    @Test
    void thePromoteParameterSkipsTheQuestion() {
        h.env.BRANCH_NAME = 'feature/cart'
        h.params.PROMOTE_TO_QA = true

        run()

        assertEquals(0, h.callsTo('input').size())
        assertEquals('Deploy to QA: SUCCESS', statuses()[10])
    }

    @Test
    void theBuildToolParameterPicksMavenGradleOrMsbuild() {
        Map<String, String> firstCommand = [maven: 'mvn -B -DskipTests package', gradle: './gradlew --no-daemon assemble',
                                            msbuild: 'dotnet msbuild Web.sln -restore']
        Map<String, String> artifactFile = [maven: 'target/web.war', gradle: 'build/libs/web.war', msbuild: 'dist/web.zip']
        for (String tool : ['maven', 'gradle', 'msbuild']) {
            h.nextBuild()
            h.params.clear()
            h.params.BUILD_TOOL = tool
            run()

            List<String> scripts = (h.callsTo('sh') + h.callsTo('bat'))*.arg('script')
            assertTrue("${tool}: ${scripts}".toString(), scripts.any { it.startsWith(firstCommand[tool]) })
            Map publish = stageInput(h, 1)
            assertEquals(artifactFile[tool], publish.file)
        }
    }

    @Test
    void theWindowsVariantBakesWithTheWindowsTemplate() {
        h.params.IMAGE_OS = 'windows'
        h.params.BUILD_TOOL = 'msbuild'

        run()

        Map bake = stageInput(h, 2)
        assertEquals('windows', bake.template)
        assertEquals([siteName: 'web', port: 80, managedRuntimeVersion: 'v4.0'], bake.iis)
        assertFalse(bake.containsKey('chef'))
        assertEquals('dist/web.zip', stageInput(h, 1).file)
        assertKeysKnown('bakeAmi')
    }

    @Test
    void aFailedDevDeployStopsThePipelineAndPostStillArchivesWhatRan() {
        scriptStageOutputs(deploy: 1)

        h.runScript(JENKINSFILE)

        assertEquals('FAILURE', h.currentBuild.result)
        assertEquals('Deploy to dev: FAILURE', statuses()[7])
        assertTrue(statuses().drop(8).every { it.endsWith(': SKIPPED') })
        assertEquals('bluegreen deploy: failed (exit 1): deploy went wrong; rolled back', h.pipelineError.message)
        // What ran is on the build page: the failed deploy's error output and its failed JUnit case too.
        List<String> archived = h.callsTo('archiveArtifacts')*.named*.artifacts.collectMany { it.tokenize(',') }
        assertEquals(3, archived.count { it.endsWith('.json') })
        String junitXml = new File(h.workspace, archived.find { it.endsWith('.junit.xml') }).getText('UTF-8')
        assertTrue(junitXml, junitXml.contains('failures="1"') && junitXml.contains('deploy went wrong; rolled back'))
        List<String> description = h.currentBuild.description.toString().readLines()
        assertEquals("web 1.4.0.7 · AMI ${BAKED_AMI} · not deployed".toString(), description[0])
        assertEquals('bluegreen deploy: failed (exit 1): deploy went wrong; rolled back', description[-1])
    }

    @Test
    void everyLibraryStepExistsAndTakesOnlyKeysItsStageAccepts() {
        approveProduction()

        run()

        Set<String> called = libraryCalls()*.name as Set
        assertEquals(['bakeAmi', 'blueGreenDeploy', 'blueGreenPromote', 'publishArtifact'] as Set, called)
        for (String step : called) {
            assertTrue("vars/${step}.groovy".toString(), h.varFile(step).isFile())
        }
        assertKeysKnown('blueGreenDeploy')
        assertKeysKnown('blueGreenPromote')
        assertKeysKnown('bakeAmi')
    }

    @Test
    void publishArtifactTakesOnlyKeysThePublishStageAccepts() {
        run()

        assertKeysKnown('publishArtifact')   // skipped until resources/bluegreen/publish.js is built
    }

    @Test
    void noExecutorIsHeldWhileWaitingForAHumanAndSourcesAreCheckedOutOnce() {
        h.env.BRANCH_NAME = 'feature/cart'
        h.inputAnswers << null

        run()

        assertEquals(['none'], h.callsTo('agent')*.positional.flatten().findAll { it == 'none' })
        assertEquals(1, h.callCount('options.skipDefaultCheckout'))
        Map promote = h.stageResults.find { it.name == 'Promote to QA' }
        assertNull('the input step runs with no agent', promote.agent)
        for (Map stage : h.stageResults.findAll { it.name =~ /^(Deploy|Bake|Build and publish)/ && it.status == 'SUCCESS' }) {
            assertNotNull("${stage.name} takes its own agent".toString(), stage.agent)
        }
        // One checkout for the build; Tag release clones on its own agent to push the tag.
        assertEquals(2, h.callCount('checkout'))
    }

    @Test
    void productionAsksWithNoExecutorHeldBetweenTheHeldDeployAndThePromote() {
        approveProduction()

        run()

        Map stages = h.stageResults.collectEntries { [it.name, it] }
        assertEquals('linux', stages['Deploy to production'].agent)
        assertNull('the production input runs with no agent', stages['Approve production'].agent)
        assertEquals('linux', stages['Promote or abort production'].agent)
    }

    @Test
    void dotnetTestWritesJUnitXmlThatJunitReads() {
        h.params.BUILD_TOOL = 'msbuild'

        run()

        String command = h.callsTo('bat')*.arg('script').find { it.startsWith('dotnet test') }
        assertNotNull("dotnet test ran with bat on the Windows agent: ${h.callsTo('bat')*.arg('script')}".toString(), command)
        assertTrue(command, command.contains('--logger "junit;LogFilePath=test-results/{assembly}.xml"'))
        assertFalse(command.contains('trx'))
        assertTrue(h.callsTo('junit')*.named*.testResults.contains('test-results/*.xml'))
        // publishArtifact ran on the Windows build agent, through PowerShell.
        assertEquals('powershell', stageRuns(h)[0].name)
        assertEquals('publish', stageOfRun(stageRuns(h)[0]))
        assertEquals('sh', stageRuns(h)[1].name)
    }

    @Test
    void aMistypedKeyIsCaught() {
        String text = new File(h.repoRoot, JENKINSFILE).text
        String typo = text.replace('ledger: env.DEPLOY_LEDGER, version: version,', 'ledger: env.DEPLOY_LEDGER, verison: version,')
        assertNotEquals('the typo was put in', text, typo)
        h.runScriptText(typo, 'Jenkinsfile.typo')

        try {
            assertKeysKnown('blueGreenDeploy')
        } catch (AssertionError e) {
            assertTrue(e.message, e.message.contains('[verison]'))
            return
        }
        fail('a mistyped key went through')
    }
}
