/*
 * deploymentHistory: the last deployments, rollbacks and recoveries of a cluster from the S3 ledger,
 * and who holds its lock. Read only. Thin on purpose: validation with error(), then the shared runner.
 */

/** deploymentHistory(cluster: 'web-prod', ledger: [bucket: 'my-deploy-ledger'], limit: 10). */
Map call(Map args = [:]) {
    Map params = [:]
    params.putAll(args ?: [:])

    if (!params.cluster && !params.app) {
        error('deploymentHistory: give app: (with optional stack: and detail:) or cluster:')
    }
    if (params.cluster && (params.app || params.stack || params.detail)) {
        error('deploymentHistory: give either cluster: or app:/stack:/detail:, not both')
    }
    if (!params.ledger) {
        error("deploymentHistory: give ledger: [bucket: 'my-deploy-ledger'] (where deployments are recorded)")
    }
    return bluegreenStage('history', params)
}
