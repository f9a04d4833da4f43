import hudson.AbortException

/** What error() and failing steps throw: like Jenkins' hudson.AbortException (an IOException). */
class PipelineError extends AbortException {
    PipelineError(String message) {
        super(message)
    }
}
