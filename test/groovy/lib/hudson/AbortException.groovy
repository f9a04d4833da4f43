package hudson

/** What Jenkins' `error` step and failing steps throw: a checked IOException, not a RuntimeException. */
class AbortException extends IOException {
    AbortException(String message) {
        super(message)
    }
}
