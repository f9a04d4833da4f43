import static BluegreenTestSupport.*
import static org.junit.Assert.*

import java.nio.ByteBuffer
import java.nio.charset.CharacterCodingException
import java.nio.charset.CodingErrorAction
import java.nio.charset.StandardCharsets
import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * What holds for every step in vars/ (as SAP piper's CommonStepsTest): it has help that renders under
 * Jenkins' Safe HTML formatter, runs its stage through the runner only (never sh itself), rejects an
 * unknown parameter through its stage's own validation before anything changes, returns a Map, and
 * leaves one line on the build page. Also every library resource is UTF-8 the runner can copy intact.
 */
class CommonStepsTest {

    /** Steps that run a stage, with the least input their Groovy side accepts. */
    private static final Map<String, Map> STAGE_STEPS = [
        blueGreenDeploy: [cluster: 'web-prod', amiId: 'ami-0123456789abcdef0', ledger: 's3://my-deploy-ledger/bluegreen'],
        blueGreenPromote: [cluster: 'web-prod', ledger: 's3://my-deploy-ledger/bluegreen'],
        blueGreenAbort: [cluster: 'web-prod', ledger: 's3://my-deploy-ledger/bluegreen'],
        bakeAmi: [app: 'web', version: '1.0.0', sourceAmi: [id: 'ami-0123456789abcdef0']],
        deploymentHistory: [cluster: 'web-prod', ledger: [bucket: 'my-deploy-ledger']],
        deploymentStatus: [cluster: 'web-prod'],
        publishArtifact: [file: 'web.tgz', bucket: 'my-artifacts', key: 'web/1.0.0/web.tgz'],
        rollbackDeploy: [cluster: 'web-prod', ledger: [bucket: 'my-deploy-ledger']],
    ]
    /** Steps that run no stage (helpers). */
    private static final Set<String> HELPER_STEPS = ['bluegreenStage', 'bluegreenLockName'] as Set

    /** What Jenkins' Safe HTML (OWASP) formatter keeps: the tags vars/*.txt may use. */
    private static final Set<String> SAFE_HTML_TAGS = ['p', 'b', 'i', 'code', 'pre', 'dl', 'dt', 'dd', 'ul', 'ol', 'li', 'br',
                                                       'a', 'em', 'strong', 'tt', 'table', 'tr', 'td', 'th'] as Set

    private PipelineHarness h

    @Before
    void setUp() {
        h = new PipelineHarness()
    }

    @After
    void tearDown() {
        h.close()
    }

    private List<String> steps() {
        return new File(h.repoRoot, 'vars').listFiles()*.name.findAll { it.endsWith('.groovy') }*.replace('.groovy', '').sort()
    }

    @Test
    void everyStepIsKnownHere() {
        assertEquals('a new step needs a row in STAGE_STEPS or HELPER_STEPS',
                     (STAGE_STEPS.keySet() + HELPER_STEPS).sort(), steps())
    }

    @Test
    void everyStepHasHelpInSafeHtml() {
        for (String step : steps()) {
            File help = new File(h.repoRoot, "vars/${step}.txt")
            assertTrue("vars/${step}.txt".toString(), help.isFile())
            String text = help.getText('UTF-8')
            assertTrue("vars/${step}.txt says how to call it".toString(), text.contains("${step}(".toString()))
            Set<String> tags = (text =~ /<\/?([a-zA-Z][a-zA-Z0-9]*)/).collect { it[1].toLowerCase() } as Set
            assertEquals("vars/${step}.txt uses only tags the Safe HTML formatter keeps".toString(), [] as Set, tags - SAFE_HTML_TAGS)
            assertFalse("vars/${step}.txt: no script or style".toString(), (text =~ /(?i)<script|<style|on\w+=/).find())
        }
    }

    @Test
    void theReadmeSaysWhichMarkupFormatterTheHelpNeedsAndHowLongBakesGetCredentials() {
        String readme = new File(h.repoRoot, 'README.md').getText('UTF-8')
        String jenkins = readme.substring(readme.indexOf('## Use it in Jenkins'), readme.indexOf('## Steps'))
        assertTrue('Safe HTML named', jenkins.contains('**Safe HTML**'))
        assertTrue('what Plain text shows', jenkins.contains('*Plain text* formatter the help shows its tags as text'))
        for (String text : [jenkins, new File(h.repoRoot, 'vars/bakeAmi.txt').getText('UTF-8')]) {
            assertTrue(text.contains('duration:'))
            assertTrue(text.contains('instance profile'))
        }
        for (String plugin : ['workflow-cps', 'pipeline-groovy-lib', 'workflow-durable-task-step', 'pipeline-aws', 'credentials-binding',
                              'lockable-resources', 'pipeline-input-step', 'badge', 'junit']) {
            assertTrue("the plugin table names ${plugin}".toString(), jenkins.contains("`${plugin}`".toString()))
        }
    }

    @Test
    void noStepRunsAShellItselfOnlyTheRunnerDoes() {
        for (String step : steps() - ['bluegreenStage', 'bakeAmi']) {
            String source = h.varFile(step).text
            assertFalse("vars/${step}.groovy runs no shell".toString(), (source =~ /\b(sh|bat|powershell)\s*\(/).find())
        }
        // bakeAmi only asks PowerShell whether packer.exe is on a Windows agent's PATH (a constant script).
        assertEquals(1, (h.varFile('bakeAmi').text =~ /\bpowershell\s*\(/).size())
    }

    @Test
    void everyStageStepRunsItsStageThroughTheRunnerReturnsAMapAndAddsOneSummaryLine() {
        for (String step : STAGE_STEPS.keySet()) {
            h.close()
            h = scriptedHarness()
            List<String> summaries = []
            h.registerStep('addSummary') { StepCall c -> summaries << (c.named.text as String); null }
            String stage = null
            h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE?.endsWith('.js') && !c.env.BLUEGREEN_BUNDLE.endsWith('/junit-report.js') }) { ShCall c ->
                stage = new File(c.env.BLUEGREEN_BUNDLE).name - '.js'
                new File(c.env.BLUEGREEN_OUTPUT).setText('{"cluster":"web-prod","ok":true}', 'UTF-8')
                0
            }
            h.onSh({ ShCall c -> c.env.BLUEGREEN_BUNDLE?.endsWith('/junit-report.js') }) { ShCall c -> h.realSh(c) }

            Object out = h.loadVar(step).call(STAGE_STEPS[step])

            assertTrue("${step} returns a Map".toString(), out instanceof Map)
            assertEquals("${step} ran one stage".toString(), 1, stageRuns(h).size())
            assertEquals(stage, stageOfRun(stageRuns(h)[0]))
            assertTrue("${step} names its stage in source".toString(), h.varFile(step).text.contains("bluegreenStage('${stage}'"))
            assertEquals("${step} adds one summary line".toString(), 1, summaries.size())
            assertTrue(summaries[0], summaries[0].startsWith("bluegreen ${stage}".toString()))
            assertEquals("${step} archives its output and report".toString(), 1, h.callCount('archiveArtifacts'))
        }
    }

    @Test
    void everyStageStepRejectsAnUnknownParameterThroughItsStage() {
        for (String step : STAGE_STEPS.keySet()) {
            h.close()
            h = new PipelineHarness()
            h.env.AWS_REGION = 'us-east-1'
            h.env.AWS_EC2_METADATA_DISABLED = 'true'
            runBundlesForReal(h)

            String message = stepError(h, step, STAGE_STEPS[step] + [nosuchKey: 1], true)

            assertTrue("${step}: ${message}".toString(), message.startsWith("bluegreen ${stageOfRun(stageRuns(h)[0])}: bad input (exit 2): "))
            assertTrue("${step}: ${message}".toString(), message.contains('nosuchKey'))
        }
    }

    @Test
    void everyLibraryResourceIsUtf8TheRunnerCopiesIntact() {
        List<File> files = []
        new File(h.repoRoot, 'resources').eachFileRecurse { File f -> if (f.isFile()) { files << f } }
        new File(h.repoRoot, 'vars').eachFile { File f -> files << f }
        assertTrue(files.size() > 10)
        for (File file : files) {
            byte[] bytes = file.bytes
            try {
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes))
            } catch (CharacterCodingException e) {
                fail("${file} is not UTF-8: libraryResource(encoding: 'UTF-8') would change it (${e})")
            }
            assertFalse("${file} starts with a byte order mark".toString(),
                        bytes.length >= 3 && bytes[0] == (byte) 0xEF && bytes[1] == (byte) 0xBB && bytes[2] == (byte) 0xBF)
            assertFalse("${file} holds a NUL byte (binary: libraryResource would need encoding: 'Base64')".toString(),
                        bytes.contains((byte) 0))
        }
    }
}
