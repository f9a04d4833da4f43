/** What error() and failing steps throw (Jenkins: hudson.AbortException). */
class PipelineError extends RuntimeException {
    PipelineError(String message) {
        super(message)
    }
}
