/*
 * blueGreenPromote: finishes a deploy held for a human (blueGreenDeploy with hold: true) as it was asked —
 * its strategy, watch and gates — under the cluster lock, after checking the cluster is as the held deploy
 * left it. Thin on purpose: the runner checks the cluster and ledger and takes BUILD_URL from the build.
 */

/**
 * blueGreenPromote(cluster: 'web-prod', ledger: 's3://my-ledger/bluegreen', serverGroup: held.serverGroup,
 *                  approvedBy: approver, reason: 'release approved')
 */
Map call(Map args = [:]) {
    return bluegreenStage('promote', args ?: [:], [step: 'blueGreenPromote', require: ['cluster', 'ledger'],
                                                   fromBuild: [buildUrl: 'BUILD_URL']])
}
