import java.util.concurrent.TimeUnit

/**
 * A real moto_server (the AWS emulator) on a free 127.0.0.1 port, for tests that run a stage
 * bundle for real. 127.0.0.1, not localhost: the JS SDK's S3 client then uses path-style URLs
 * (docs/architecture.md, "Sandbox"). Always stop() it in a finally block.
 */
class MotoServer {
    final int port
    final File log
    private final Process process

    private MotoServer(int port, File log, Process process) {
        this.port = port
        this.log = log
        this.process = process
    }

    String getUrl() {
        return "http://127.0.0.1:${port}"
    }

    /** The environment a bundle needs to talk to this server (fake credentials, as moto wants). */
    Map<String, String> getAwsEnv() {
        return [AWS_ENDPOINT_URL: url, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing',
                AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true']
    }

    static MotoServer start(long timeoutSeconds = 30) {
        int port = freePort()
        File log = File.createTempFile('moto_server', '.log')
        Process process = new ProcessBuilder('moto_server', '-H', '127.0.0.1', '-p', "${port}".toString())
            .redirectErrorStream(true)
            .redirectOutput(log)
            .start()
        MotoServer moto = new MotoServer(port, log, process)
        long deadline = System.currentTimeMillis() + timeoutSeconds * 1000
        while (!moto.answers()) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                moto.stop()
                throw new IllegalStateException("moto_server did not start on port ${port}:\n${log.text}")
            }
            sleep(100)
        }
        return moto
    }

    /** Stops the server and any child process (a pyenv shim may sit in between). */
    void stop() {
        List<ProcessHandle> children = process.toHandle().descendants().iterator().toList()
        for (ProcessHandle child : children) {
            child.destroy()
        }
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly()
        }
        for (ProcessHandle child : children) {
            child.destroyForcibly()
        }
        log.delete()
    }

    /** True once the server answers HTTP. */
    boolean answers() {
        try {
            HttpURLConnection connection = (HttpURLConnection) new URL("${url}/moto-api/").openConnection()
            connection.connectTimeout = 500
            connection.readTimeout = 2000
            return connection.responseCode < 500
        } catch (IOException ignored) {
            return false
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
}
