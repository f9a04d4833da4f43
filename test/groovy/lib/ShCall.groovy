/** A shell step call (sh, powershell, bat), as a handler sees it. */
class ShCall {
    /** Which step ran it: sh, powershell, pwsh or bat. */
    String shell = 'sh'
    String script
    String label
    boolean returnStatus
    boolean returnStdout
    /** The build's environment at the call (withEnv, withAWS, withCredentials included). */
    Map<String, String> env
    File cwd
}
