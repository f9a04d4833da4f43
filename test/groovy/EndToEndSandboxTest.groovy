import static BluegreenTestSupport.*
import static org.junit.Assert.*

import groovy.json.JsonSlurper
import groovy.util.XmlSlurper
import java.util.concurrent.TimeUnit
import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * End to end through Groovy, nothing scripted: publishArtifact -> bakeAmi -> blueGreenDeploy (v1),
 * then under a traffic probe publishArtifact -> bakeAmi -> blueGreenDeploy (v2) -> rollbackDeploy,
 * with sh really running the committed bundles against the sandbox (moto + real traffic, started
 * here on a free port) and real packer (the bake stage renders its sandbox template when
 * AWS_ENDPOINT_URL is set). Every step returns its map and no request through the load balancer fails.
 * Needs `npm run build` first (dist/cli.js runs the sandbox and the probe), moto_server and packer.
 */
class EndToEndSandboxTest {

    private static final long SANDBOX_START_SECONDS = 90

    private PipelineHarness h
    private Process sandbox
    private Process probe
    private File sandboxLog
    private File probeLog
    private File probeReport
    private boolean passed

    @Before
    void setUp() {
        h = new PipelineHarness()
        sandboxLog = File.createTempFile('sandbox', '.log')
        probeLog = File.createTempFile('probe', '.log')
        probeReport = new File(h.tempRoot, 'probe-report.json')
    }

    @After
    void tearDown() {
        // Always stopped, whatever failed: SIGTERM, then wait (each stops its own children).
        stop(probe)
        stop(sandbox)
        if (!passed) {
            System.err.println("---- console of the build:\n${h.console}")
            System.err.println("---- sandbox log (tail):\n${tail(sandboxLog)}")
            System.err.println("---- probe log (tail):\n${tail(probeLog)}")
        }
        sandboxLog.delete()
        probeLog.delete()
        h.close()
    }

    private static String tail(File file, int lines = 60) {
        return file.exists() ? file.readLines().takeRight(lines).join('\n') : ''
    }

    private static void stop(Process process) {
        if (process == null || !process.isAlive()) {
            return
        }
        process.destroy()   // SIGTERM: the CLI stops moto, its servers and its load balancers
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.toHandle().descendants().each { it.destroyForcibly() }
            process.destroyForcibly()
        }
    }

    private static int freePort() {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName('127.0.0.1'))
        try {
            return socket.localPort
        } finally {
            socket.close()
        }
    }

    private Process startCli(List<String> args, File log) {
        List<String> command = ['node', new File(h.repoRoot, 'dist/cli.js').path] + args
        return new ProcessBuilder(command).directory(h.repoRoot).redirectErrorStream(true).redirectOutput(log).start()
    }

    /** Starts the sandbox with the demo infra; returns its state file (endpoint, buckets, target group, listener URL). */
    private Map startSandbox() {
        File state = new File(h.tempRoot, 'sandbox-state.json')
        sandbox = startCli(['sandbox', '--infra', 'demo', '--state-file', state.path, '--port', "${freePort()}".toString(),
                            '--time-scale', '0.05'], sandboxLog)
        long deadline = System.currentTimeMillis() + SANDBOX_START_SECONDS * 1000
        while (!state.isFile() || state.length() == 0) {
            assertTrue("the sandbox exited early:\n${tail(sandboxLog)}".toString(), sandbox.isAlive())
            assertTrue("the sandbox was not ready within ${SANDBOX_START_SECONDS}s".toString(),
                       System.currentTimeMillis() < deadline)
            sleep(200)
        }
        sleep(200)   // the state file is written in one go; let the write finish
        return (Map) new JsonSlurper().parse(state)
    }

    private void startProbe(String url) {
        // Bounded by time; the default count (100 000) can run out before the rollback ends on a fast sandbox.
        probe = startCli(['sandbox', 'probe', '--url', url, '--duration', '10m', '--concurrency', '4',
                          '--max-requests', '5000000', '--output', probeReport.path], probeLog)
    }

    /** Stops the probe (SIGTERM makes it write its report) and returns the report. */
    private Map stopProbe() {
        probe.destroy()
        assertTrue('the probe stopped', probe.waitFor(60, TimeUnit.SECONDS))
        assertTrue("the probe wrote its report:\n${tail(probeLog)}".toString(), probeReport.isFile())
        return (Map) new JsonSlurper().parse(probeReport)
    }

    private Object step(String text) {
        return h.runScriptText(text)
    }

    @Test
    void publishBakeDeployTwiceAndRollBackUnderTrafficWithoutAFailedRequest() {
        assertTrue('dist/cli.js is missing: run npm run build before the Groovy tests',
                   new File(h.repoRoot, 'dist/cli.js').isFile())
        Map state = startSandbox()
        Map infra = (Map) state.infra
        h.env.putAll([AWS_ENDPOINT_URL: state.endpoint as String, AWS_REGION: state.region as String,
                      AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true',
                      // Poll as on AWS, at the sandbox's time scale.
                      BLUEGREEN_POLL_MIN_MS: '50', BLUEGREEN_POLL_MAX_MS: '500',
                      GIT_COMMIT: 'c0ffee0000000000000000000000000000000000'])
        runBundlesForReal(h)
        List<String> summaries = []   // the Badge plugin's summary lines
        h.registerStep('addSummary') { StepCall c -> summaries << (c.named.text as String); null }
        h.binding.setVariable('artifactBucket', infra.artifactBucket)
        h.binding.setVariable('ledger', [bucket: infra.ledgerBucket, prefix: 'bluegreen'])
        h.binding.setVariable('firstDeploy', [targetGroups: [infra.targetGroupName], capacity: [min: 2, max: 4, desired: 2],
                                              instanceType: 't3.micro', subnets: infra.subnetIds])
        for (String version : ['1.0.0', '2.0.0']) {
            new File(h.workspace, "web-${version}.tgz").text = "web ${version}\n"
        }

        // v1: the cluster's first server group (before any traffic: nothing serves yet).
        Map v1 = (Map) step(releaseScript('1.0.0') + '''
            return [artifact: artifact, ami: ami,
                    deployed: blueGreenDeploy([app: 'web', stack: 'prod', amiId: ami.amiId, ledger: ledger, version: '1.0.0',
                                               artifactUrl: artifact.artifactUrl, healthTimeout: '3m'] + firstDeploy)]
        ''')
        assertRelease(v1, '1.0.0')
        assertEquals('web-prod-v000', v1.deployed.serverGroup)
        assertNull(v1.deployed.previousServerGroup)

        startProbe((String) infra.listenerUrl)
        // v2 under traffic: launch settings are copied from v1 now.
        Map v2 = (Map) step(releaseScript('2.0.0') + '''
            return [artifact: artifact, ami: ami,
                    deployed: blueGreenDeploy(app: 'web', stack: 'prod', amiId: ami.amiId, ledger: ledger, version: '2.0.0',
                                              artifactUrl: artifact.artifactUrl, healthTimeout: '3m')]
        ''')
        assertRelease(v2, '2.0.0')
        assertEquals('web-prod-v001', v2.deployed.serverGroup)
        assertEquals('web-prod-v000', v2.deployed.previousServerGroup)
        assertNotEquals(v1.ami.amiId, v2.ami.amiId)

        Map rolledBack = null
        boolean canRollBack = h.varFile('rollbackDeploy').isFile() &&
                              new File(h.repoRoot, 'resources/bluegreen/rollback.js').isFile()
        if (canRollBack) {
            rolledBack = (Map) step('''
                return rollbackDeploy(app: 'web', stack: 'prod', ledger: ledger, reason: 'end-to-end test', healthTimeout: '3m')
            ''')
        } else {
            System.err.println('EndToEndSandboxTest: vars/rollbackDeploy.groovy or resources/bluegreen/rollback.js ' +
                               'is not there yet: the rollback step was not run')
        }
        Map history = (Map) step('return deploymentHistory(app: \'web\', stack: \'prod\', ledger: ledger)')
        // The rollback returns at cutover, and the probe's timeline has windows of 1/50 of its run (~2 s here):
        // keep it running past one window so its last one holds only requests sent after the cutover.
        sleep(4000)
        Map report = stopProbe()

        String summary = "probe: ${report.total} requests, ${report.failed} failed, per version ${report.perVersion}"
        println "  EndToEndSandboxTest ${summary}"
        assertTrue(summary, (report.total as int) > 50)
        assertEquals("${summary}; failures: ${report.failures}".toString(), 0, report.failed as int)
        assertTrue("v2 served: ${summary}".toString(), ((((Map) report.perVersion)['2.0.0'] ?: 0) as int) > 0)
        assertTrue('the ledger holds both deploys', (history.records as List).size() >= 2)
        if (canRollBack) {
            assertEquals('web-prod', rolledBack.cluster)
            assertEquals('web-prod-v001', rolledBack.rolledBackFrom)
            assertEquals('web-prod-v000', rolledBack.restoredServerGroup)
            assertEquals(v1.ami.amiId, rolledBack.amiId)
            List timeline = (List) report.timeline
            assertEquals('traffic ends on v1 after the rollback', ['1.0.0'], timeline[-1].versions)
        }
        // The build page: one summary line per step, each step's report archived, the deploys' checks as JUnit.
        assertEquals(summaries.join('\n'), (canRollBack ? 8 : 7), summaries.size())
        assertEquals("bluegreen deploy web-prod: web-prod-v001 serving ${v2.ami.amiId} (2.0.0), was web-prod-v000".toString(),
                     summaries[5])
        if (canRollBack) {
            assertEquals('bluegreen rollback web-prod: web-prod-v001 → web-prod-v000 (reenable): end-to-end test', summaries[6])
        }
        List<String> archived = h.callsTo('archiveArtifacts')*.named*.artifacts.collectMany { it.tokenize(',') }
        assertEquals(summaries.size(), archived.count { it.endsWith('.txt') })
        String deployReport = new File(h.workspace, archived.findAll { it ==~ /.*\/deploy-\w+\.txt/ }[1]).getText('UTF-8')
        assertTrue(deployReport, deployReport.startsWith(summaries[5]))
        assertTrue(deployReport, deployReport.contains('\nserverGroup: web-prod-v001\n'))
        List<String> junitFiles = h.callsTo('junit')*.named*.testResults
        assertEquals(2, junitFiles.size())
        def checks = new XmlSlurper().parse(new File(h.workspace, junitFiles[1]))
        assertEquals('0', checks.@failures.text())
        assertEquals(["web-prod-v001 healthy in target group ${infra.targetGroupName}".toString(), 'web-prod-v000 drained and disabled'],
                     checks.testsuite.testcase*.@name*.text())
        // Credentials never cross in the input files.
        assertFalse(h.callsTo('writeFile').findAll { it.named.file.toString().endsWith('.in.json') }
                     .any { it.named.text.toString().contains('testing') })
        passed = true
    }

    /** publishArtifact then bakeAmi of one version, leaving `artifact` and `ami` in the script. */
    private static String releaseScript(String version) {
        return """
            Map artifact = publishArtifact(file: 'web-${version}.tgz', bucket: artifactBucket,
                                           keyTemplate: '{app}/{version}/{fileName}', app: 'web', version: '${version}')
            Map ami = bakeAmi(app: 'web', version: '${version}', artifactUrl: artifact.artifactUrl, timeoutMinutes: 5,
                              sourceAmi: [filter: [name: 'amzn-ami-hvm-*', owners: ['amazon']]])
        """
    }

    private static void assertRelease(Map release, String version) {
        assertTrue("${release.artifact}".toString(),
                   (release.artifact.artifactUrl as String).endsWith("/web/${version}/web-${version}.tgz"))
        assertEquals(64, (release.artifact.sha256 as String).length())
        assertTrue("${release.ami}".toString(), (release.ami.amiId as String).startsWith('ami-'))
        assertEquals(release.ami.amiId, ((Map) release.ami.amis)[release.ami.region])
        assertTrue((release.ami.amiName as String).startsWith("web-${version}-"))
        assertEquals(release.ami.amiId, release.deployed.amiId)
        assertEquals('succeeded', release.deployed.status)
    }
}
