/*
 * blueGreenAbort: removes the server group of a deploy held for a human (blueGreenDeploy with hold: true),
 * and puts its test listener back, under the cluster lock; the serving group is not touched.
 * Thin on purpose: the runner checks the cluster and ledger and takes BUILD_URL from the build.
 */

/**
 * blueGreenAbort(cluster: 'web-prod', ledger: 's3://my-ledger/bluegreen', serverGroup: held.serverGroup,
 *                approvedBy: approver, reason: 'rejected at the production gate')
 */
Map call(Map args = [:]) {
    return bluegreenStage('abort', args ?: [:], [step: 'blueGreenAbort', require: ['cluster', 'ledger'],
                                                 fromBuild: [buildUrl: 'BUILD_URL']])
}
