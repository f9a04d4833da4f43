/*
 * deploymentHistory: the last deployments, rollbacks and recoveries of a cluster from the S3 ledger,
 * and who holds its lock. Read only. Thin on purpose: the runner checks the cluster and ledger.
 */

/** deploymentHistory(cluster: 'web-prod', ledger: [bucket: 'my-deploy-ledger'], limit: 10). */
Map call(Map args = [:]) {
    return bluegreenStage('history', args ?: [:], [step: 'deploymentHistory', require: ['cluster', 'ledger']])
}
