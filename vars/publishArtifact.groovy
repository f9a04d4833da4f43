/*
 * publishArtifact: uploads a build artifact to S3, immutably, with its SHA-256 and build
 * metadata. Thin: validation with error(), then the runner (which takes the build's number, URL
 * and commit unless given).
 */

/**
 * publishArtifact(file: 'target/web.tgz', bucket: 'my-artifacts', keyTemplate: '{app}/{version}/{fileName}',
 *                 app: 'web', version: '1.4.0')
 * Returns the publish stage's output map (artifactUrl, httpsUrl, sha256, size, versionId, ...).
 */
Map call(Map args = [:]) {
    Map params = args ?: [:]
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
    Map fromBuild = [buildNumber: 'BUILD_NUMBER', buildUrl: 'BUILD_URL', gitCommit: 'GIT_COMMIT']
    return bluegreenStage('publish', params, [step: 'publishArtifact', fromBuild: fromBuild])
}
