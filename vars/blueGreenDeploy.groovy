/*
 * blueGreenDeploy: red/black deploy of an AMI as a new server group, with automatic rollback
 * (docs/architecture.md, "Red/black deploy"). Thin on purpose: defaults from the build, validation
 * with error(), then the shared runner; the deploy stage validates every key again and does all the work.
 */

/**
 * blueGreenDeploy(app: 'web', stack: 'prod', amiId: ami.amiId, ledger: 's3://deploy-ledger/bluegreen')
 * Returns the deploy stage's output map (serverGroup, previousServerGroup, amiId, deploymentId, ...).
 */
Map call(Map args = [:]) {
    Map params = [:]
    params.putAll(args ?: [:])

    if (!params.cluster && !params.app) {
        error('blueGreenDeploy: give app: (with optional stack: and detail:) or cluster:')
    }
    if (params.cluster && (params.app || params.stack || params.detail)) {
        error('blueGreenDeploy: give either cluster: or app:/stack:/detail:, not both')
    }
    if (!params.amiId) {
        error('blueGreenDeploy: amiId is required: the AMI to deploy, e.g. the amiId output of bakeAmi')
    }
    if (!params.ledger) {
        error('blueGreenDeploy: ledger is required: where deployments are recorded and clusters locked, ' +
              "e.g. 's3://my-deploy-ledger/bluegreen'")
    }
    // Recorded in the server group's tags and the ledger: where a user would look for them.
    if (params.buildUrl == null) {
        params.buildUrl = env.BUILD_URL
    }
    if (params.gitCommit == null) {
        params.gitCommit = env.GIT_COMMIT
    }
    return bluegreenStage('deploy', params)
}
