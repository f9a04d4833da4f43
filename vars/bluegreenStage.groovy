import groovy.json.JsonOutput
import groovy.transform.Field

/*
 * The one runner every bluegreen step goes through (docs/architecture.md, "Shape" and "Stage contract"):
 * libraryResource -> writeFile -> sh "node <stage>.js --input in.json --output out.json" -> readJSON.
 *
 * Jenkins keeps one instance of a vars/ script per build (in the build's binding), so the
 * @Field values below are per-build state, saved with the program like any other variable.
 */

// Agents (node name + PATH) on which Node.js was already found good in this build.
@Field Set<String> checkedAgents = [] as Set

// Numbers the input/output files, so every call of a build gets its own pair.
@Field int callCount = 0

/**
 * Runs one bluegreen stage bundle and returns its output map.
 * Null-valued params are dropped; the rest cross to node as a JSON file, never through the shell.
 * Any non-zero exit becomes one error() that carries the stage's own message.
 * options.resources: other library resources under bluegreen/ the bundle reads (e.g. Packer
 * templates), written beside it once per build: the bundle finds them relative to __dirname.
 */
Map call(String stage, Map params = [:], Map options = [:]) {
    if (!(stage ==~ /[a-z][a-z0-9-]*/)) {
        error("bluegreenStage: stage must be a lower-case name such as 'deploy' (got '${stage}')")
    }
    List<String> resources = (options?.resources ?: []) as List<String>
    for (int i = 0; i < resources.size(); i++) {
        if (!(resources[i] ==~ /bluegreen\/[\w.-]+(\/[\w.-]+)*/) || resources[i].contains('..')) {
            error("bluegreenStage: resources must be paths under bluegreen/ (got '${resources[i]}')")
        }
    }
    // The node block's temp dir (not the dir() one, which may sit inside the workspace); one
    // sub dir per build, so a later build never runs a bundle from an older library version.
    String root = "${env.WORKSPACE_TMP ?: pwd(tmp: true)}/bluegreen"
    String buildDirName = env.BUILD_NUMBER ?: 'build'
    String buildDir = "${root}/${buildDirName}"
    checkNodeOnce(root, buildDirName)

    // The bundle is fetched from the library once per build and agent (and again only if deleted).
    String bundle = "${buildDir}/${stage}.js"
    if (!fileExists(bundle)) {
        writeFile(file: bundle, text: libraryResource("bluegreen/${stage}.js"), encoding: 'UTF-8')
    }
    for (int i = 0; i < resources.size(); i++) {
        String copy = "${buildDir}/${resources[i].substring('bluegreen/'.length())}"
        if (!fileExists(copy)) {
            writeFile(file: copy, text: libraryResource(resources[i]), encoding: 'UTF-8')
        }
    }

    callCount++
    String input = "${buildDir}/${stage}-${callCount}.in.json"
    String output = "${buildDir}/${stage}-${callCount}.out.json"
    writeFile(file: input, text: JsonOutput.toJson(withoutNulls(params)), encoding: 'UTF-8')

    // Paths go to the shell as environment variables: the script text is a constant, so no
    // workspace name or value can be interpreted by the shell. Credentials come from the
    // caller's environment (withAWS, withCredentials, instance profile), never from the JSON.
    int status = 0
    withEnv(["BLUEGREEN_BUNDLE=${bundle}", "BLUEGREEN_INPUT=${input}", "BLUEGREEN_OUTPUT=${output}"]) {
        status = sh(script: 'node "$BLUEGREEN_BUNDLE" --input "$BLUEGREEN_INPUT" --output "$BLUEGREEN_OUTPUT"',
                    returnStatus: true, label: "bluegreen ${stage}")
    }

    Object result = fileExists(output) ? readJSON(file: output, returnPojo: true) : null
    if (status != 0 || !(result instanceof Map)) {
        error(failureMessage(stage, status, result, output))
    }
    return (Map) result
}

/**
 * Fails the build with a clear message unless `node` >= 20 runs on this agent; asks once per
 * agent and PATH (a nodejs tool block changes PATH). The same shell call prunes the bundles that
 * earlier builds left in this workspace's temp dir.
 */
void checkNodeOnce(String root, String buildDirName) {
    String agentKey = "${env.NODE_NAME}|${env.PATH}"
    if (checkedAgents.contains(agentKey)) {
        return
    }
    String found = ''
    withEnv(["BLUEGREEN_ROOT=${root}", "BLUEGREEN_KEEP=${buildDirName}"]) {
        found = sh(script: NODE_CHECK_SCRIPT, returnStdout: true, label: 'bluegreen: check Node.js').trim()
    }
    String problem = nodeProblem(found)
    if (problem) {
        error(problem)
    }
    checkedAgents.add(agentKey)
}

// Kept constant (no Groovy interpolation): all inputs arrive as environment variables.
@Field static final String NODE_CHECK_SCRIPT = '''\
if [ -d "$BLUEGREEN_ROOT" ]; then
  find "$BLUEGREEN_ROOT" -mindepth 1 -maxdepth 1 ! -name "$BLUEGREEN_KEEP" -exec rm -rf {} +
fi
if command -v node >/dev/null 2>&1; then node --version; else echo 'node: not found'; fi
'''

@Field static final int MIN_NODE_MAJOR = 20

/** Why the `node --version` output rules this agent out, or null when it is good. */
@NonCPS
String nodeProblem(String versionOutput) {
    if (versionOutput == 'node: not found') {
        return "node not found on PATH: install Node.js >= ${MIN_NODE_MAJOR} or use the nodejs tool"
    }
    def version = versionOutput =~ /v(\d+)\.\d+\.\d+/
    if (!version.find()) {
        return "bluegreen could not read the Node.js version on this agent (node --version printed '${versionOutput}')"
    }
    if ((version.group(1) as int) < MIN_NODE_MAJOR) {
        return "bluegreen needs Node.js >= ${MIN_NODE_MAJOR} on this agent; found ${version.group(0)}"
    }
    return null
}

/** The params without null values: a null means "use the stage's default". */
@NonCPS
Map withoutNulls(Map params) {
    Map kept = [:]
    for (Map.Entry entry in (params ?: [:]).entrySet()) {
        if (entry.value != null) {
            kept[entry.key] = entry.value
        }
    }
    return kept
}

/** One line for error(): stage, what the exit code means, and the stage's own field and message. */
@NonCPS
String failureMessage(String stage, int status, Object result, String outputPath) {
    if (status == 0) {
        return result == null ? "bluegreen ${stage}: exited 0 but wrote no output file (${outputPath})"
                              : "bluegreen ${stage}: exited 0 but its output is not a JSON object (${outputPath})"
    }
    String head = "bluegreen ${stage}: ${exitMeaning(status)} (exit ${status})"
    if (result == null) {
        return "${head} and wrote no output file (${outputPath}); see the log above"
    }
    // `error` on a failure; bake writes its outputs plus `failure` when Packer failed after making the AMI.
    Map problem = null
    if (result instanceof Map && result.error instanceof Map) {
        problem = (Map) result.error
    } else if (result instanceof Map && result.failure instanceof Map) {
        problem = (Map) result.failure
    }
    if (problem == null) {
        return "${head} without an error in its output (${outputPath}); see the log above"
    }
    String message = problem.message ?: problem.code ?: 'no message given'
    return "${head}: ${withField(problem.field as String, message as String)}"
}

/** The message led by its field, unless the stage already wrote it that way ("amiId: must look like ..."). */
@NonCPS
String withField(String field, String message) {
    if (!field || message.startsWith("${field}:")) {
        return message
    }
    return "${field}: ${message}"
}

/** What an exit code of the stage contract (docs/architecture.md, "Stage contract") means. */
@NonCPS
String exitMeaning(int status) {
    switch (status) {
        case 1: return 'failed'
        case 2: return 'bad input'
        case 3: return 'conflict'
        default: return 'crashed'
    }
}
