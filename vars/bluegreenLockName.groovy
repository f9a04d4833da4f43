import groovy.transform.Field

/*
 * bluegreenLockName: the one name of a cluster's Jenkins lock (Lockable Resources), so a deploy job
 * and the rollback job of the same cluster queue behind each other in this Jenkins instead of one
 * meeting the other's S3 lock (exit 3). The S3 lock in the ledger still guards across Jenkinses.
 * Each region of a cluster has its own S3 lock (a rollout's regions deploy at the same time), so with
 * `region` the name is the region's: bluegreen-web-prod-eu-west-1.
 * The cluster's name is the stages' own (app--detail without a stack): a stage bundle's --names
 * works it out, so it runs on an agent with Node.js, like the other steps.
 */

// Any stage that names a cluster will do: status is the one that only reads.
@Field static final String NAMING_STAGE = 'status'

/**
 * bluegreenLockName('web-prod') or bluegreenLockName(app: 'web', stack: 'prod'): 'bluegreen-web-prod';
 * bluegreenLockName(app: 'web', stack: 'prod', region: 'eu-west-1'): 'bluegreen-web-prod-eu-west-1'.
 */
String call(String cluster) {
    return call(cluster: cluster)
}

String call(Map args) {
    Map cluster = [cluster: args?.cluster, app: args?.app, stack: args?.stack, detail: args?.detail]
    if (args?.region != null) {
        cluster.region = args.region
    }
    Map names = bluegreenStage(NAMING_STAGE, cluster, [step: 'bluegreenLockName', names: true])
    return names.region ? "bluegreen-${names.cluster}-${names.region}" : "bluegreen-${names.cluster}"
}
