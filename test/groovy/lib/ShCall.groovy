/** An sh call, as a handler sees it. */
class ShCall {
    String script
    boolean returnStatus
    boolean returnStdout
    /** The build's environment at the call (withEnv included). */
    Map<String, String> env
    File cwd
}
