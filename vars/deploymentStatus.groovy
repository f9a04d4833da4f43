/*
 * deploymentStatus: what runs in a cluster now (server groups, lock, last deployments).
 * Thin on purpose: the runner checks the cluster.
 */

/** deploymentStatus(app: 'web', stack: 'prod', region: 'us-east-1') or deploymentStatus(cluster: 'web-prod'). */
Map call(Map args = [:]) {
    return bluegreenStage('status', args ?: [:], [step: 'deploymentStatus', require: ['cluster']])
}

/** deploymentStatus('web-prod'): the cluster by name, region from the environment. */
Map call(String cluster) {
    return call(cluster: cluster)
}
