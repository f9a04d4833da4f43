import groovy.transform.Field

/*
 * bakeAmi: bakes an AMI with Packer from the built-in Linux or Windows template (or your own)
 * and returns its id (docs/architecture.md, "Bake"). Thin: defaults from the build, validation with error(), then
 * the shared runner with the Packer templates written beside the bake bundle.
 */

/*
 * Every file under resources/bluegreen/packer/: libraryResource reads one file at a time, and the
 * bake bundle looks for them beside itself (packer/linux, packer/windows, packer/files: it copies
 * all of files/ into each build). BakeAmiTest fails when this list and that directory differ.
 */
@Field static final List<String> PACKER_RESOURCES = [
    'bluegreen/packer/linux/build.pkr.hcl.hbs',
    'bluegreen/packer/windows/build.pkr.hcl.hbs',
    'bluegreen/packer/files/chef-solo.sh',
    'bluegreen/packer/files/fetch-artifact.ps1',
    'bluegreen/packer/files/fetch-artifact.sh',
    'bluegreen/packer/files/install-iis-app.ps1',
    'bluegreen/packer/files/winrm-https-userdata.ps1',
]

/**
 * bakeAmi(app: 'web', version: '1.4.0', artifactUrl: artifact.artifactUrl,
 *         sourceAmi: [filter: [name: 'al2023-ami-2023.*-x86_64', owners: ['amazon']]], allowedCidrs: ['10.0.0.0/8'])
 * Returns the bake stage's output map (amiId, amis, amiName, region, packerRunUuid).
 */
Map call(Map args = [:]) {
    Map params = [:]
    params.putAll(args ?: [:])

    if (!params.app) {
        error('bakeAmi: app is required: the application name (first part of the AMI name)')
    }
    if (!params.version) {
        error('bakeAmi: version is required: the application version (AMI name and bluegreen:version tag)')
    }
    if (!(params.sourceAmi instanceof Map)) {
        error("bakeAmi: sourceAmi is required: [id: 'ami-…'] or [filter: [name: '…', owners: ['amazon']]]")
    }
    Map build = buildMetadata(params.build)
    params.build = build ?: null   // null: no build key at all
    return bluegreenStage('bake', params, [resources: PACKER_RESOURCES])
}

/** The AMI's build tags: BUILD_URL and GIT_COMMIT of this build unless the caller's build: map says otherwise. */
Map buildMetadata(Object given) {
    Map build = [url: env.BUILD_URL, gitCommit: env.GIT_COMMIT]
    if (given instanceof Map) {
        build.putAll((Map) given)
    }
    Map kept = [:]
    for (String key : build.keySet()) {
        if (build[key] != null) {
            kept[key] = build[key]
        }
    }
    return kept
}
