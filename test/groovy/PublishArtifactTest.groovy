import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/** vars/publishArtifact.groovy: defaults from the build, validation, then the publish stage. */
class PublishArtifactTest {

    private static final Map PUBLISHED = [artifactUrl: 's3://my-artifacts/web/1.4.0/web.tgz',
                                          httpsUrl: 'https://my-artifacts.s3.us-east-1.amazonaws.com/web/1.4.0/web.tgz',
                                          sha256: 'ab' * 32, size: 1234, versionId: 'v1']

    private PipelineHarness h

    @Before
    void setUp() {
        h = scriptedHarness()
        stubStage(h, 'publish', 0, PUBLISHED)
        h.env.GIT_COMMIT = '0123abcd'
        h.env.BUILD_NUMBER = '42'
    }

    @After
    void tearDown() {
        h.close()
    }

    private String publishError(Map args) {
        return BluegreenTestSupport.stepError(h, 'publishArtifact', args)
    }

    @Test
    void runsThePublishStageWithBuildNumberUrlAndCommitFromTheBuild() {
        Map out = (Map) h.runScriptText('''
            publishArtifact(file: 'target/web.tgz', bucket: 'my-artifacts', keyTemplate: '{app}/{version}/{fileName}',
                            app: 'web', version: '1.4.0')
        ''')

        assertEquals(PUBLISHED, out)
        assertEquals(['bluegreen/publish.js'], h.callsTo('libraryResource')*.arg('resource'))
        assertEquals([file: 'target/web.tgz', bucket: 'my-artifacts', keyTemplate: '{app}/{version}/{fileName}',
                      app: 'web', version: '1.4.0', buildNumber: '42',
                      buildUrl: 'https://jenkins.example/job/test-job/1/', gitCommit: '0123abcd'], stageInput(h))
    }

    @Test
    void givenValuesWinOverTheBuilds() {
        h.loadVar('publishArtifact').call(file: 'a.zip', bucket: 'b', key: 'k/a.zip', buildNumber: '7', gitCommit: 'feed',
                                          buildUrl: 'https://other/7/')

        assertEquals([file: 'a.zip', bucket: 'b', key: 'k/a.zip', buildNumber: '7', gitCommit: 'feed',
                      buildUrl: 'https://other/7/'], stageInput(h))
    }

    @Test
    void requiredParametersAreNamed() {
        assertEquals('publishArtifact: file is required: the artifact to upload, relative to the current directory',
                     publishError(bucket: 'b', key: 'k'))
        assertEquals('publishArtifact: bucket is required: the S3 bucket name (no s3:// prefix)',
                     publishError(file: 'a.zip', key: 'k'))
        assertEquals('publishArtifact: key or keyTemplate is required, ' +
                     "e.g. keyTemplate: '{app}/{version}/{buildNumber}/{fileName}'",
                     publishError(file: 'a.zip', bucket: 'b'))
    }

    @Test
    void contentAlreadyAtTheKeyIsAConflict() {
        stubStage(h, 'publish', 3, [error: [code: 'ArtifactExists', field: 'key',
                                            message: 'key: s3://b/k holds different content (sha256 …); ' +
                                                     'pass overwrite: true to replace it']])

        try {
            h.loadVar('publishArtifact').call(file: 'a.zip', bucket: 'b', key: 'k')
            fail('expected error()')
        } catch (PipelineError e) {
            assertEquals('bluegreen publish: conflict (exit 3): key: s3://b/k holds different content (sha256 …); ' +
                         'pass overwrite: true to replace it', e.message)
        }
    }
}
