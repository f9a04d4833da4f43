import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import groovy.transform.Field

/*
 * The one runner every bluegreen step goes through: checks and build defaults the steps share,
 * then libraryResource -> writeFile -> sh (Unix) or powershell (Windows) running
 * "node <stage>.js --input in.json --output out.json" -> readFile, then the results on the build
 * page (the stage's summary line, the output and a short report archived, a JUnit report of the
 * checks when the stage has one). The sh step's label, the cluster the input names and the summary
 * line all come from the stage (src/stages/list.ts): the bundle's --names before the run, its
 * output after.
 *
 * Jenkins keeps one instance of a vars/ script per calling script (in that script's binding), so
 * blueGreenDeploy's runner and a Jenkinsfile's are different objects: nothing here counts calls.
 * File names are unique per call; the @Field below is only a cache (asking node again is harmless).
 */

// Agents (node name + PATH) on which Node.js was already found good by this instance.
@Field Set<String> checkedAgents = [] as Set

/**
 * Runs one bluegreen stage bundle and returns its output map.
 * Null-valued params are dropped; the rest cross to node as a JSON file, never through the shell.
 * Any non-zero exit becomes one error() that carries the stage's own message.
 * options (all optional):
 *   step:      the calling step's name, for messages (default 'bluegreenStage');
 *   require:   ['cluster'] (app:/stack:/detail: or cluster:, not both) and/or 'ledger';
 *   fromBuild: param name -> env name, defaults taken from the build (e.g. [buildUrl: 'BUILD_URL']);
 *   resources: other library resources under bluegreen/ the bundle reads (e.g. Packer templates),
 *              written beside it once per build: the bundle finds them relative to __dirname;
 *   names:     true to run nothing and return the stage's names of the input ([cluster:, label:]),
 *              with one error() when its cluster keys are bad (bluegreenLockName asks so).
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
    String step = (options?.step ?: 'bluegreenStage') as String
    Map input = checkedInput(step, params, options ?: [:])

    boolean unix = isUnix()
    // The node block's temp dir (not the dir() one, which may sit inside the workspace); one
    // sub dir per build, so a later build never runs a bundle from an older library version.
    String root = "${env.WORKSPACE_TMP ?: pwd(tmp: true)}/bluegreen"
    String buildDirName = env.BUILD_NUMBER ?: 'build'
    String buildDir = "${root}/${buildDirName}"
    checkNodeOnce(root, buildDirName, unix)

    String bundle = fetchResource(buildDir, "bluegreen/${stage}.js")
    for (int i = 0; i < resources.size(); i++) {
        fetchResource(buildDir, resources[i])
    }

    String callId = "${stage}-${UUID.randomUUID().toString().take(8)}"
    // A names-only call's input is no stage's input: it runs nothing.
    String inputFile = "${buildDir}/${callId}.${options?.names ? 'names-' : ''}in.json"
    String outputFile = "${buildDir}/${callId}.out.json"
    writeFile(file: inputFile, text: JsonOutput.toJson(input), encoding: 'UTF-8')
    Map names = runNames(stage, bundle, inputFile, "${buildDir}/${callId}.names.json", unix)
    if (options?.names) {
        return namedCluster(step, stage, names)
    }
    // Without names (a bad cluster, a bundle that cannot say) the run itself reports what is wrong.
    String label = names.label ?: "bluegreen ${stage}"
    int status = runBundle(bundle, inputFile, outputFile, label, unix)

    Object result = fileExists(outputFile) ? parseJson(readFile(file: outputFile, encoding: 'UTF-8')) : null
    String problem = status != 0 || !(result instanceof Map) ? failureMessage(stage, status, result, outputFile) : null
    recordResults([stage: stage, names: names, callId: callId, status: status, result: result, problem: problem,
                   outputFile: outputFile, buildDir: buildDir, unix: unix])
    if (problem) {
        error(problem)
    }
    return (Map) result
}

/** The stage input: the checks and build defaults the steps share, then the params without nulls. */
Map checkedInput(String step, Map params, Map options) {
    Map given = withoutNulls(params)
    List<String> required = (options.require ?: []) as List<String>
    if (required.contains('cluster')) {
        if (!given.cluster && !given.app) {
            error("${step}: give app: (with optional stack: and detail:) or cluster:")
        }
        if (given.cluster && (given.app || given.stack || given.detail)) {
            error("${step}: give either cluster: or app:/stack:/detail:, not both")
        }
    }
    if (required.contains('ledger') && !given.ledger) {
        error("${step}: ledger is required: where deployments are recorded and clusters locked, " +
              "e.g. 's3://my-deploy-ledger/bluegreen' or [bucket: 'my-deploy-ledger']")
    }
    // Recorded in tags, metadata and the ledger: where a user would look for them.
    Map fromBuild = (options.fromBuild ?: [:]) as Map
    for (String key : fromBuild.keySet()) {
        if (given[key] == null && env[fromBuild[key] as String] != null) {
            given[key] = env[fromBuild[key] as String]
        }
    }
    return given
}

/** Writes a library resource (a bundle, a template) into the build's dir once, byte for byte; returns its path. */
String fetchResource(String buildDir, String resource) {
    String copy = "${buildDir}/${resource.substring('bluegreen/'.length())}"
    if (!fileExists(copy)) {
        // UTF-8 both ways: without encoding, libraryResource decodes with the controller's platform default.
        writeFile(file: copy, text: libraryResource(resource: resource, encoding: 'UTF-8'), encoding: 'UTF-8')
    }
    return copy
}

/**
 * The stage's names of this input, from its bundle's --names (which changes nothing): [cluster:, label:,
 * junitReport:], or [error: [field:, message:]] when its cluster keys are bad, or [:] when it said nothing.
 */
Map runNames(String stage, String bundle, String inputFile, String namesFile, boolean unix) {
    int status = 0
    String label = "bluegreen: names of the ${stage} run"
    withEnv(["BLUEGREEN_NAMES_OF=${bundle}", "BLUEGREEN_INPUT=${inputFile}", "BLUEGREEN_OUTPUT=${namesFile}"]) {
        if (unix) {
            status = sh(script: NAMES_SH, returnStatus: true, label: label)
        } else {
            status = powershell(script: NAMES_POWERSHELL, returnStatus: true, label: label)
        }
    }
    Object names = fileExists(namesFile) ? parseJson(readFile(file: namesFile, encoding: 'UTF-8')) : null
    if (!(names instanceof Map) || (status != 0 && !(((Map) names).error instanceof Map))) {
        return [:]
    }
    return (Map) names
}

/** The names of a names-only call, which must name a cluster; else one error() with the stage's reason. */
Map namedCluster(String step, String stage, Map names) {
    if (!names.cluster) {
        Map problem = names.error instanceof Map ? (Map) names.error
                                                 : [message: "the ${stage} bundle named no cluster; see the log above"]
        error("${step}: ${withField(problem.field as String, problem.message as String)}")
    }
    return names
}

/** Runs a bundle with the constant script of this agent's shell; paths reach it as environment variables. */
int runBundle(String bundle, String inputFile, String outputFile, String label, boolean unix) {
    // The script text is a constant, so no workspace name or value can be interpreted by the shell.
    // Credentials come from the caller's environment (withAWS, withCredentials, instance profile).
    int status = 0
    withEnv(["BLUEGREEN_BUNDLE=${bundle}", "BLUEGREEN_INPUT=${inputFile}", "BLUEGREEN_OUTPUT=${outputFile}"]) {
        if (unix) {
            status = sh(script: RUN_STAGE_SH, returnStatus: true, label: label)
        } else {
            status = powershell(script: RUN_STAGE_POWERSHELL, returnStatus: true, label: label)
        }
    }
    return status
}

@Field static final String RUN_STAGE_SH = '''\
rm -f "$BLUEGREEN_OUTPUT"
node "$BLUEGREEN_BUNDLE" --input "$BLUEGREEN_INPUT" --output "$BLUEGREEN_OUTPUT"
'''

// Continue, not Stop: Windows PowerShell turns a native command's stderr into errors under Stop.
@Field static final String RUN_STAGE_POWERSHELL = '''\
$ErrorActionPreference = 'Continue'
# Inputs arrive as environment variables only: this text is a constant.
Remove-Item -LiteralPath $env:BLUEGREEN_OUTPUT -Force -ErrorAction SilentlyContinue
if (-not (Get-Command node -CommandType Application -ErrorAction SilentlyContinue)) { exit 127 }
& node $env:BLUEGREEN_BUNDLE --input $env:BLUEGREEN_INPUT --output $env:BLUEGREEN_OUTPUT
exit $LASTEXITCODE
'''

// The same run with --names, the bundle in a variable of its own: a names run is never taken for the stage's.
@Field static final String NAMES_SH = '''\
rm -f "$BLUEGREEN_OUTPUT"
node "$BLUEGREEN_NAMES_OF" --names --input "$BLUEGREEN_INPUT" --output "$BLUEGREEN_OUTPUT"
'''

@Field static final String NAMES_POWERSHELL = '''\
$ErrorActionPreference = 'Continue'
Remove-Item -LiteralPath $env:BLUEGREEN_OUTPUT -Force -ErrorAction SilentlyContinue
if (-not (Get-Command node -CommandType Application -ErrorAction SilentlyContinue)) { exit 127 }
& node $env:BLUEGREEN_NAMES_OF --names --input $env:BLUEGREEN_INPUT --output $env:BLUEGREEN_OUTPUT
exit $LASTEXITCODE
'''

/**
 * Fails the build with a clear message unless `node` >= 20 runs on this agent; asks once per
 * agent and PATH (a nodejs tool block changes PATH). The same shell call prunes, best effort,
 * what earlier builds left in this workspace's temp dir and in ./bluegreen-results.
 */
void checkNodeOnce(String root, String buildDirName, boolean unix) {
    String agentKey = "${env.NODE_NAME}|${env.PATH}"
    if (checkedAgents.contains(agentKey)) {
        return
    }
    String found = ''
    withEnv(["BLUEGREEN_ROOT=${root}", "BLUEGREEN_RESULTS=${RESULTS_DIR}", "BLUEGREEN_KEEP=${buildDirName}"]) {
        if (unix) {
            found = sh(script: NODE_CHECK_SH, returnStdout: true, label: NODE_CHECK_LABEL).trim()
        } else {
            found = powershell(script: NODE_CHECK_POWERSHELL, returnStdout: true, label: NODE_CHECK_LABEL).trim()
        }
    }
    String problem = nodeProblem(found)
    if (problem) {
        error(problem)
    }
    checkedAgents.add(agentKey)
}

// Kept constant (no Groovy interpolation): all inputs arrive as environment variables. The prune
// is best effort (a file held open, a read-only dir): it never fails the step under sh -e.
@Field static final String NODE_CHECK_SH = '''\
for dir in "$BLUEGREEN_ROOT" "$BLUEGREEN_RESULTS"; do
  if [ -d "$dir" ]; then
    find "$dir" -mindepth 1 -maxdepth 1 ! -name "$BLUEGREEN_KEEP" -exec rm -rf {} + ||
      echo "bluegreen: could not remove all files of earlier builds in $dir (ignored)" >&2
  fi
done
if command -v node >/dev/null 2>&1; then node --version; else echo 'node: not found'; fi
'''

@Field static final String NODE_CHECK_POWERSHELL = '''\
$ErrorActionPreference = 'Continue'
foreach ($dir in @($env:BLUEGREEN_ROOT, $env:BLUEGREEN_RESULTS)) {
  if (Test-Path -LiteralPath $dir) {
    Get-ChildItem -LiteralPath $dir -Force -ErrorAction SilentlyContinue |
      Where-Object { $_.Name -ne $env:BLUEGREEN_KEEP } |
      Remove-Item -Recurse -Force -ErrorAction SilentlyContinue
  }
}
if (Get-Command node -CommandType Application -ErrorAction SilentlyContinue) { node --version }
else { Write-Output 'node: not found' }
exit 0
'''

@Field static final int MIN_NODE_MAJOR = 20

@Field static final String NODE_CHECK_LABEL = 'bluegreen: check Node.js'

// Where each call's output, report and JUnit XML go (relative to the current dir, as archiveArtifacts reads).
@Field static final String RESULTS_DIR = 'bluegreen-results'

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

/** The params without null values: a null means "use the stage's default". A new map. */
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

/**
 * The stage's output file as plain LinkedHashMaps, ArrayLists, Strings, numbers and booleans
 * (serializable, unlike JsonSlurper's lazy maps), or the text when it is not JSON. No plugin needed.
 */
@NonCPS
Object parseJson(String text) {
    try {
        return plainJson(new JsonSlurper().parseText(text))
    } catch (IllegalArgumentException | groovy.json.JsonException notJson) {
        return text
    }
}

@NonCPS
Object plainJson(Object value) {
    if (value instanceof Map) {
        Map copy = [:]
        for (Map.Entry entry in ((Map) value).entrySet()) {
            copy.put(entry.key as String, plainJson(entry.value))
        }
        return copy
    }
    if (value instanceof List) {
        List copy = []
        for (Object item : (List) value) {
            copy.add(plainJson(item))
        }
        return copy
    }
    return value
}

/** One line for error(): stage, what the exit code means, and the stage's own field and message. */
@NonCPS
String failureMessage(String stage, int status, Object result, String outputPath) {
    if (status == 0) {
        return result == null ? "bluegreen ${stage}: exited 0 but wrote no output file (${outputPath})"
                              : "bluegreen ${stage}: exited 0 but its output is not a JSON object (${outputPath})"
    }
    if (status == 127) {
        return "bluegreen ${stage}: node is missing on this agent (exit 127): " +
               "put Node.js >= ${MIN_NODE_MAJOR} on its PATH, " +
               "e.g. with the NodeJS plugin's tool (tools { nodejs 'node20' } or nodejs('node20') { ... }), " +
               'or run the step in an agent or container() that has node'
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

/** What an exit code of the stage contract means (0 ok, 1 failed, 2 bad input, 3 conflict). */
@NonCPS
String exitMeaning(int status) {
    switch (status) {
        case 1: return 'failed'
        case 2: return 'bad input'
        case 3: return 'conflict'
        default: return 'crashed'
    }
}

// ---------------------------------------------------------------- results on the build page

/**
 * After a run: the output JSON and a short report archived, its checks as JUnit XML (a deploy's)
 * (recorded with junit), and one summary line. Best effort: a failure to record is echoed and
 * never hides the stage's own result; an abort (InterruptedException) still stops the build.
 */
void recordResults(Map run) {
    // The stage's own line (`summary` in its output); a bundle that writes none still leaves one.
    String line = run.problem ?: ((run.result as Map).summary ?: "bluegreen ${run.stage}: done")
    // Lines under it (`summaryDetail`: a canary's per-metric verdicts), whether the run passed or failed.
    List detail = run.result instanceof Map && (run.result as Map).summaryDetail instanceof List ?
        ((run.result as Map).summaryDetail as List).collect { String.valueOf(it) } : []
    try {
        String base = "${RESULTS_DIR}/${env.BUILD_NUMBER ?: 'build'}/${run.callId}"
        List<String> files = []
        if (run.result != null) {
            String json = JsonOutput.prettyPrint(JsonOutput.toJson(run.result))
            writeFile(file: "${base}.json", text: json, encoding: 'UTF-8')
            files << "${base}.json"
        }
        writeFile(file: "${base}.txt", text: humanReport(([line] + detail).join('\n'), run.result), encoding: 'UTF-8')
        files << "${base}.txt"
        String junitFile = (run.names as Map).junitReport ? writeJUnitReport(run, "${base}.junit.xml") : null
        if (junitFile) {
            files << junitFile
        }
        archiveArtifacts(artifacts: files.join(','), allowEmptyArchive: true)
        if (junitFile) {
            recordJUnit(junitFile)
        }
    } catch (InterruptedException aborted) {
        throw aborted
    } catch (IOException notRecorded) {   // what a failing step throws (hudson.AbortException)
        echo("bluegreen ${run.stage}: could not record the results on the build page (${notRecorded.message}); " +
             "the stage itself ${run.problem ? 'failed' : 'succeeded'}")
    }
    addSummaryLine(line)
    for (String detailLine in detail) {
        addSummaryLine(detailLine)
    }
}

/** Renders a run's checks with the junit-report bundle; returns the XML's path, or null when it failed. */
String writeJUnitReport(Map run, String xmlFile) {
    String reporter = fetchResource(run.buildDir as String, 'bluegreen/junit-report.js')
    String cluster = (run.names as Map).cluster
    String requestFile = "${run.buildDir}/${run.callId}.junit-request.json"
    Map request = [cluster: cluster, exitCode: run.status, outputFile: run.outputFile]
    writeFile(file: requestFile, text: JsonOutput.toJson(request), encoding: 'UTF-8')
    String label = "bluegreen: JUnit report of ${run.stage} ${cluster}"
    int status = runBundle(reporter, requestFile, xmlFile, label, run.unix as boolean)
    if (status != 0) {
        echo("bluegreen ${run.stage}: the JUnit report of its checks failed (exit ${status}); see the log above")
        return null
    }
    return xmlFile
}

/** Records a JUnit file with the junit step when the JUnit plugin is installed. */
void recordJUnit(String file) {
    try {
        junit(testResults: file, allowEmptyResults: true)
    } catch (NoSuchMethodError noJUnitPlugin) {
        echo("bluegreen: the JUnit plugin is not installed; the deploy's checks are archived as ${file}")
    }
}

/** One line on the build page: the Badge plugin's summary when installed, else the build description. */
void addSummaryLine(String line) {
    try {
        addSummary(icon: 'symbol-rocket-outline plugin-ionicons-api', text: line)   // Badge 2.0 and later
        return
    } catch (NoSuchMethodError ignored) {
        // Badge 1.x or no Badge plugin: try the older step, then the description.
    }
    try {
        createSummary(icon: 'info.gif', text: line)   // Badge 1.x
        return
    } catch (NoSuchMethodError ignored) {
        // No Badge plugin at all.
    }
    String before = currentBuild.description ?: ''
    currentBuild.description = before ? "${before}\n${line}" : line
}

/** A short text report: the summary line, then the output's simple values, one per line. */
@NonCPS
String humanReport(String line, Object result) {
    StringBuilder text = new StringBuilder(line).append('\n')
    if (!(result instanceof Map)) {
        return text.append('\n(no output)\n').toString()
    }
    text.append('\n')
    for (Map.Entry entry in ((Map) result).entrySet()) {
        if (entry.key == 'summaryDetail') {
            continue   // already under the summary line
        }
        Object value = entry.value
        String shown
        if (value instanceof List && ((List) value).every { !(it instanceof Map) && !(it instanceof List) }) {
            shown = ((List) value).join(', ')
        } else if (value instanceof Map || value instanceof List) {
            shown = JsonOutput.toJson(value)
            shown = shown.length() > 400 ? "${shown.take(400)}…" : shown
        } else {
            shown = String.valueOf(value)
        }
        text.append("${entry.key}: ${shown}\n")
    }
    return text.toString()
}
