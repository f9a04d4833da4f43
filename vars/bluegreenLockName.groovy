/*
 * bluegreenLockName: the one name of a cluster's Jenkins lock (Lockable Resources), so a deploy job
 * and the rollback job of the same cluster queue behind each other in this Jenkins instead of one
 * meeting the other's S3 lock (exit 3). The S3 lock in the ledger still guards across Jenkinses.
 */

/** bluegreenLockName('web-prod') or bluegreenLockName(app: 'web', stack: 'prod'): 'bluegreen-web-prod'. */
String call(String cluster) {
    return call(cluster: cluster)
}

String call(Map args) {
    String cluster = clusterOf(args ?: [:])
    // The cluster naming rule of the stages: app[-stack[-detail]] of letters, digits, '.', '_' and '-'.
    if (!(cluster ==~ /[A-Za-z0-9][A-Za-z0-9._-]{0,199}/)) {
        error('bluegreenLockName: give cluster: or app:/stack:/detail: naming a cluster like ' +
              "'web-prod' (got '${cluster}')")
    }
    return "bluegreen-${cluster}"
}

/** cluster:, or app[-stack[-detail]]. */
@NonCPS
String clusterOf(Map args) {
    return args.cluster ?: [args.app, args.stack, args.detail].findAll { Object part -> part }.join('-')
}
