/*
 * rollbackDeploy: puts a cluster back on an earlier release — re-enables the previous (or a named)
 * server group, or redeploys its AMI when the group is gone. Zero downtime either way.
 * Thin on purpose: defaults, validation with error(), then the shared runner.
 */

/** rollbackDeploy(cluster: 'web-prod', ledger: [bucket: 'my-ledger'], to: 'previous', reason: 'v2 broke checkout'). */
Map call(Map args = [:]) {
    Map params = [:]
    params.putAll(args ?: [:])

    if (!params.cluster && !params.app) {
        error('rollbackDeploy: give app: (with optional stack: and detail:) or cluster:')
    }
    if (params.cluster && (params.app || params.stack || params.detail)) {
        error('rollbackDeploy: give either cluster: or app:/stack:/detail:, not both')
    }
    if (!params.ledger) {
        error("rollbackDeploy: give ledger: [bucket: 'my-deploy-ledger'] (the deployment ledger and cluster lock)")
    }
    params.to = params.to ?: 'previous'
    if (!params.buildUrl && env.BUILD_URL) {
        params.buildUrl = env.BUILD_URL
    }
    return bluegreenStage('rollback', params)
}
