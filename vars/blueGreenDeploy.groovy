/*
 * blueGreenDeploy: red/black deploy of an AMI as a new server group, with automatic rollback.
 * Thin on purpose: the runner checks the cluster and ledger and takes BUILD_URL/GIT_COMMIT from the
 * build; the deploy stage validates every key again and does all the work.
 */

/**
 * blueGreenDeploy(app: 'web', stack: 'prod', amiId: ami.amiId, ledger: 's3://deploy-ledger/bluegreen')
 * blueGreenDeploy(cluster: 'web-prod', amis: ami.amis, regions: ['us-east-1': [...], 'eu-west-1': [...]], ...)
 * Returns the deploy stage's output map (serverGroup, previousServerGroup, amiId, deploymentId, ...;
 * for several regions: rolloutId and regions, one entry per region).
 */
Map call(Map args = [:]) {
    if (!args?.amiId && !args?.amis) {
        error('blueGreenDeploy: amiId is required: the AMI to deploy, e.g. the amiId output of bakeAmi')
    }
    return bluegreenStage('deploy', args, [step: 'blueGreenDeploy', require: ['cluster', 'ledger'],
                                           fromBuild: [buildUrl: 'BUILD_URL', gitCommit: 'GIT_COMMIT']])
}
