/*
 * rollbackDeploy: puts a cluster back on an earlier release — re-enables the previous (or a named)
 * server group, or redeploys its AMI when the group is gone. Zero downtime either way.
 * Thin on purpose: the runner checks the cluster and ledger and takes BUILD_URL from the build.
 */

/**
 * rollbackDeploy(cluster: 'web-prod', ledger: [bucket: 'my-ledger'], to: 'previous', reason: 'v2 broke checkout',
 *                approvedBy: answer.APPROVER)
 */
Map call(Map args = [:]) {
    Map params = [:]
    params.putAll(args ?: [:])
    params.to = params.to ?: 'previous'
    return bluegreenStage('rollback', params, [step: 'rollbackDeploy', require: ['cluster', 'ledger'],
                                               fromBuild: [buildUrl: 'BUILD_URL']])
}
