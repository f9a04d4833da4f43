/*
 * deploymentHistory: the last deployments, rollbacks and recoveries of a cluster from the S3
 * ledger, and who holds its lock. Read only. Thin: validation with error(), then the runner.
 */

/** deploymentHistory(app: 'web', stack: 'prod', ledger: 's3://deploy-ledger/bluegreen', limit: 5) */
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
        error('deploymentHistory: ledger is required: the ledger the deploys write to, ' +
              "e.g. 's3://my-deploy-ledger/bluegreen'")
    }
    return bluegreenStage('history', params)
}
