/*
 * publishArtifact: uploads a build artifact to S3, immutably, with its SHA-256 and build
 * metadata (docs/architecture.md, "Stage contract"). Thin: defaults from the build, validation with
 * error(), then the runner.
 */

/**
 * publishArtifact(file: 'target/web.tgz', bucket: 'my-artifacts', keyTemplate: '{app}/{version}/{fileName}',
 *                 app: 'web', version: '1.4.0')
 * Returns the publish stage's output map (artifactUrl, httpsUrl, sha256, size, versionId, ...).
 */
Map call(Map args = [:]) {
    Map params = [:]
    params.putAll(args ?: [:])

    if (!params.file) {
        error('publishArtifact: file is required: the artifact to upload, relative to the current directory')
    }
    if (!params.bucket) {
        error('publishArtifact: bucket is required: the S3 bucket name (no s3:// prefix)')
    }
    if (!params.key && !params.keyTemplate) {
        error('publishArtifact: key or keyTemplate is required, ' +
              "e.g. keyTemplate: '{app}/{version}/{buildNumber}/{fileName}'")
    }
    // Stored as the object's metadata (and usable in keyTemplate): what a user expects from the build.
    if (params.buildNumber == null) {
        params.buildNumber = env.BUILD_NUMBER
    }
    if (params.buildUrl == null) {
        params.buildUrl = env.BUILD_URL
    }
    if (params.gitCommit == null) {
        params.gitCommit = env.GIT_COMMIT
    }
    return bluegreenStage('publish', params)
}
