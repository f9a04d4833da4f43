package org.jenkinsci.plugins.workflow.steps

/** What Jenkins throws when a build step is interrupted: an input rejected ("Abort"), a timeout, a milestone. */
class FlowInterruptedException extends InterruptedException {
    FlowInterruptedException(String message) {
        super(message)
    }
}
