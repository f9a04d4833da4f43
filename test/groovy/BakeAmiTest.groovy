import static BluegreenTestSupport.*
import static org.junit.Assert.*

import org.junit.After
import org.junit.Before
import org.junit.Test

/** vars/bakeAmi.groovy: build tags from the build, validation, the Packer templates beside the bundle. */
class BakeAmiTest {

    private static final Map BAKED = [amiId: 'ami-0123456789abcdef0', region: 'us-east-1',
                                      amis: ['us-east-1': 'ami-0123456789abcdef0', 'eu-west-1': 'ami-0fedcba9876543210'],
                                      amiName: 'web-1.4.0-20261126062000', packerRunUuid: '6f1c2f5e-0000-4000-8000-000000000000']

    private static final Map SOURCE = [filter: [name: 'al2023-ami-2023.*-x86_64', owners: ['amazon']]]

    private PipelineHarness h

    @Before
    void setUp() {
        h = new PipelineHarness()   // libraryResource reads the real resources/ dir
        stubNodeCheck(h)
        stubStage(h, 'bake', 0, BAKED)
        h.env.GIT_COMMIT = '0123abcd'
    }

    @After
    void tearDown() {
        h.close()
    }

    private String bakeError(Map args) {
        h.calls.clear()
        try {
            h.loadVar('bakeAmi').call(args)
        } catch (PipelineError e) {
            assertEquals(1, h.callCount('error'))
            assertEquals('nothing ran', 0, stageRuns(h).size())
            return e.message
        }
        fail("expected error(), calls:\n${h.callLog()}")
        return null
    }

    /** Every file under resources/bluegreen/packer, as a libraryResource path. */
    private List<String> packerFilesInTheRepo() {
        File resources = new File(h.repoRoot, 'resources')
        List<String> found = []
        new File(resources, 'bluegreen/packer').eachFileRecurse { File f ->
            if (f.isFile()) {
                found << resources.toPath().relativize(f.toPath()).toString()
            }
        }
        return found.sort()
    }

    @Test
    void theStepCopiesExactlyTheFilesOfResourcesPacker() {
        List<String> listed = (h.loadVar('bakeAmi').getProperty('PACKER_RESOURCES') as List<String>).sort()

        assertEquals('vars/bakeAmi.groovy PACKER_RESOURCES must list every file under resources/bluegreen/packer',
                     packerFilesInTheRepo(), listed)
    }

    @Test
    void runsTheBakeStageWithTheTemplatesBesideTheBundle() {
        Map out = (Map) h.runScriptText('''
            bakeAmi(app: 'web', version: '1.4.0', artifactUrl: 's3://my-artifacts/web/1.4.0/web.tgz',
                    sourceAmi: [filter: [name: 'al2023-ami-2023.*-x86_64', owners: ['amazon']]], allowedCidrs: ['10.0.0.0/8'])
        ''')

        assertEquals(BAKED, out)
        assertEquals([app: 'web', version: '1.4.0', artifactUrl: 's3://my-artifacts/web/1.4.0/web.tgz', sourceAmi: SOURCE,
                      allowedCidrs: ['10.0.0.0/8'],
                      build: [url: 'https://jenkins.example/job/test-job/1/', gitCommit: '0123abcd']], stageInput(h))
        // The bundle finds packer/ beside itself: each file was written there with the library's content.
        String bundle = h.callsTo('writeFile')*.named*.file.find { it.endsWith('/bake.js') }
        File buildDir = new File(bundle).parentFile
        for (String resource : packerFilesInTheRepo()) {
            File copy = new File(buildDir, resource.substring('bluegreen/'.length()))
            assertTrue("${copy} was written", copy.isFile())
            assertEquals(new File(h.repoRoot, "resources/${resource}").getText('UTF-8'), copy.getText('UTF-8'))
        }
    }

    @Test
    void theTemplatesAreFetchedOncePerBuild() {
        h.loadVar('bakeAmi').call(app: 'web', version: '1', sourceAmi: SOURCE, template: 'windows')
        h.loadVar('bakeAmi').call(app: 'web', version: '2', sourceAmi: SOURCE)

        assertEquals(1 + packerFilesInTheRepo().size(), h.callCount('libraryResource'))
        assertEquals('windows', stageInput(h, 1).template)
    }

    @Test
    void theCallersBuildMapWinsAndNullsAreDropped() {
        h.env.remove('GIT_COMMIT')
        h.loadVar('bakeAmi').call(app: 'web', version: '1', sourceAmi: SOURCE, build: [url: 'https://other/9/'])
        assertEquals([url: 'https://other/9/'], stageInput(h, 1).build)

        h.env.remove('BUILD_URL')
        h.loadVar('bakeAmi').call(app: 'web', version: '1', sourceAmi: SOURCE)
        assertFalse('no build key when the build knows nothing', stageInput(h, 2).containsKey('build'))
    }

    @Test
    void requiredParametersAreNamed() {
        assertEquals('bakeAmi: app is required: the application name (first part of the AMI name)',
                     bakeError(version: '1', sourceAmi: SOURCE))
        assertEquals('bakeAmi: version is required: the application version (AMI name and bluegreen:version tag)',
                     bakeError(app: 'web', sourceAmi: SOURCE))
        assertEquals("bakeAmi: sourceAmi is required: [id: 'ami-…'] or [filter: [name: '…', owners: ['amazon']]]",
                     bakeError(app: 'web', version: '1', sourceAmi: 'ami-0123456789abcdef0'))
    }

    @Test
    void packerFailingAfterTheAmiWasMadeSaysWhy() {
        stubStage(h, 'bake', 1, BAKED + [exitCode: 1, failure: [message: 'post-processor manifest failed', errors: []]])

        try {
            h.loadVar('bakeAmi').call(app: 'web', version: '1', sourceAmi: SOURCE)
            fail('expected error()')
        } catch (PipelineError e) {
            assertEquals('bluegreen bake: failed (exit 1): post-processor manifest failed', e.message)
        }
    }
}
