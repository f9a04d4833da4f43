/*
 * deploymentStatus: what runs in a cluster now (server groups, lock, last deployments).
 * Thin on purpose: defaults, validation with error(), then the shared runner.
 */

/** deploymentStatus(app: 'web', stack: 'prod', region: 'us-east-1') or deploymentStatus(cluster: 'web-prod'). */
Map call(Map args = [:]) {
    Map params = [:]
    params.putAll(args ?: [:])

    if (!params.cluster && !params.app) {
        error('deploymentStatus: give app: (with optional stack: and detail:) or cluster:')
    }
    if (params.cluster && (params.app || params.stack || params.detail)) {
        error('deploymentStatus: give either cluster: or app:/stack:/detail:, not both')
    }
    return bluegreenStage('status', params)
}

/** deploymentStatus('web-prod'): the cluster by name, region from the environment. */
Map call(String cluster) {
    return call(cluster: cluster)
}
