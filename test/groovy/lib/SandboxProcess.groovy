import groovy.json.JsonSlurper
import java.util.concurrent.TimeUnit

/**
 * The bluegreen sandbox (moto + traffic layer + demo infra) as a child process, started with
 * `node dist/cli.js sandbox --infra demo` (build it first: npm run build). Gives the AWS
 * environment a bundle needs and the demo load balancer's URL. Always stop() it in a finally block.
 */
class SandboxProcess {
    final Map state
    final File log
    private final Process process
    private final File repoRoot

    private SandboxProcess(Process process, Map state, File log, File repoRoot) {
        this.process = process
        this.state = state
        this.log = log
        this.repoRoot = repoRoot
    }

    static SandboxProcess start(File repoRoot, double timeScale = 0.05, long timeoutSeconds = 60) {
        File cli = new File(repoRoot, 'dist/cli.js')
        if (!cli.isFile()) {
            throw new IllegalStateException("${cli} is missing: run npm run build first")
        }
        File dir = File.createTempDir('bluegreen-sandbox', '')
        File stateFile = new File(dir, 'state.json')
        File log = new File(dir, 'sandbox.log')
        Process process = new ProcessBuilder('node', cli.path, 'sandbox', '--infra', 'demo', '--port', '0',
                                             '--time-scale', "${timeScale}".toString(), '--state-file', stateFile.path)
            .directory(repoRoot)
            .redirectErrorStream(true)
            .redirectOutput(log)
            .start()
        long deadline = System.currentTimeMillis() + timeoutSeconds * 1000
        while (!stateFile.isFile() || stateFile.length() == 0) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                process.destroy()
                throw new IllegalStateException("the sandbox did not start:\n${log.text}")
            }
            sleep(100)
        }
        sleep(50)
        Map state = (Map) new JsonSlurper().parse(stateFile)
        return new SandboxProcess(process, state, log, repoRoot)
    }

    Map getInfra() {
        return (Map) state.infra
    }

    /** Environment for a bundle or the AWS CLI aimed at the sandbox (dummy credentials, fast polling). */
    Map<String, String> getAwsEnv() {
        return [AWS_ENDPOINT_URL: state.endpoint as String, AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox',
                AWS_REGION: state.region as String, AWS_DEFAULT_REGION: state.region as String,
                AWS_EC2_METADATA_DISABLED: 'true', BLUEGREEN_POLL_MIN_MS: '50', BLUEGREEN_POLL_MAX_MS: '250']
    }

    /** Runs a command with the sandbox environment; returns stdout, fails with its output otherwise. */
    String run(List<String> command, int expectedExit = 0) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(repoRoot).redirectErrorStream(true)
        builder.environment().putAll(awsEnv)
        Process child = builder.start()
        String output = child.inputStream.text
        if (!child.waitFor(300, TimeUnit.SECONDS)) {
            child.destroyForcibly()
            throw new IllegalStateException("${command} did not finish:\n${output}")
        }
        if (child.exitValue() != expectedExit) {
            throw new IllegalStateException("${command} exited ${child.exitValue()}:\n${output}")
        }
        return output
    }

    /** Registers an AMI whose sandbox instances serve `version` (the repo's AWS SDK: quicker to start than the AWS CLI). */
    String appAmi(String version) {
        String script = """
            const { EC2Client, RegisterImageCommand, CreateTagsCommand } = require('@aws-sdk/client-ec2');
            (async () => {
              const ec2 = new EC2Client({});
              const [version] = process.argv.slice(1);
              const image = await ec2.send(new RegisterImageCommand({ Name: 'app-' + version, RootDeviceName: '/dev/sda1' }));
              const tags = [{ Key: 'sandbox:version', Value: version }, { Key: 'sandbox:health', Value: 'ok' }];
              await ec2.send(new CreateTagsCommand({ Resources: [image.ImageId], Tags: tags }));
              process.stdout.write(image.ImageId);
            })().catch((e) => { console.error(e); process.exit(1); });
        """
        return run(['node', '--no-warnings', '-e', script, version]).trim()
    }

    /** The JSON the demo load balancer answers now. */
    Map fetch() {
        return (Map) new JsonSlurper().parseText(new URL(infra.listenerUrl as String).text)
    }

    /** Stops the sandbox (SIGTERM: it stops moto and every port it opened). */
    void stop() {
        process.destroy()
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.toHandle().descendants().each { ProcessHandle p -> p.destroyForcibly() }
            process.destroyForcibly()
        }
    }
}
