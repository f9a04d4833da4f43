import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import java.lang.reflect.Field
import java.lang.reflect.Modifier
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import java.util.regex.Pattern
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer
import org.codehaus.groovy.runtime.InvokerHelper

/**
 * A small harness in JenkinsPipelineUnit's style (that library is not reachable here).
 *
 * One harness = one build: it loads Jenkinsfiles into one binding, binds step mocks, and records
 * every step call (name + args) in `calls`. A var named by a script (bluegreenStage from
 * deploymentStatus) resolves to the real var script, as Jenkins does it: one instance per calling
 * script, cached in that script's binding, with a binding of its own (so @Field state is per
 * instance, not per build). Before every step call the harness checks that what the program holds
 * (var fields, binding variables) is Serializable, as Jenkins must save it there.
 *
 * Files are real: the workspace is a temp dir, writeFile/readFile/fileExists/readJSON work on
 * it, libraryResource reads the repository's real resources/ dir. `sh` is strict: each call
 * must match a handler registered with onSh(), which either scripts the result or runs the
 * script for real (realSh) with the build's environment.
 */
class PipelineHarness implements AutoCloseable {

    /** The repository root: vars/ and resources/ are read from here. */
    final File repoRoot
    /** Every step call of this build, in order. */
    final List<StepCall> calls = []
    /** Everything the build printed (echo, sh output), like the console log. */
    final StringBuilder console = new StringBuilder()
    /** The build's environment, like Jenkins' `env` global. Values are Strings. */
    final Map<String, String> env = [:]
    /** The build's parameters (`params` global). */
    final Map<String, Object> params = [:]
    /** `currentBuild`: a plain map so scripts can set result, description, displayName. */
    final Map<String, Object> currentBuild = [:]
    /** Answers for `input` steps, taken in order; an empty queue means "Proceed" (null). */
    final List<Object> inputAnswers = []
    /** Where libraryResource looks, first match wins: the repository's resources/ dir by default. */
    final List<File> resourceRoots = []
    /** Declarative stages as run: [name:, status: SUCCESS|FAILURE|SKIPPED, reason:]. */
    final List<Map> stageResults = []
    /** The first error that failed a declarative pipeline, if any. */
    Throwable pipelineError
    /** Print the console as the build runs (or set BLUEGREEN_TEST_VERBOSE=1). */
    boolean verbose = System.getenv('BLUEGREEN_TEST_VERBOSE') == '1'
    /** What isUnix() answers: false makes the agent a Windows one (sh fails there, powershell/bat run). */
    boolean unix = true
    /**
     * Whether the code runs on an agent (inside node, or a declarative agent). Under `agent none`
     * a workspace step outside a stage's agent fails as Jenkins fails it (no hudson.FilePath).
     */
    boolean onAgent = true
    /** The steps that need a workspace (hudson.FilePath in their context). */
    static final Set<String> WORKSPACE_STEPS = ['sh', 'bat', 'powershell', 'pwsh', 'writeFile', 'readFile', 'fileExists',
        'writeJSON', 'readJSON', 'archiveArtifacts', 'junit', 'stash', 'unstash', 'checkout', 'dir', 'pwd', 'deleteDir',
        'cleanWs', 'isUnix'] as Set
    /** AWS credentials by Jenkins credentials id, for withAWS/withCredentials (default: fake keys per id). */
    final Map<String, Map<String, String>> awsCredentials = [:]
    /** Check before each step call that the program's state is Serializable (as Jenkins saves it). */
    boolean checkSerializable = true
    /** Steps and global variables (env, params, currentBuild): what every script sees. */
    final Map<String, Object> globals = [:]
    /** Var instances of this build (each with its own binding), for the serializability check. */
    final List<Script> varInstances = []

    final File tempRoot
    final File workspace
    final Binding binding

    private final Map<String, Closure> steps = [:]
    private final List<Map> shHandlers = []
    private File cwd

    // Compiled var/Jenkinsfile classes, shared by all harnesses of this JVM (a key holds the mtime).
    private static final Map<String, Class> COMPILED = [:]
    private static int scriptCount = 0
    private static final GroovyClassLoader LOADER =
        new GroovyClassLoader(PipelineHarness.classLoader, jenkinsCompilerConfiguration())
    private static final GroovyClassLoader VARS_LOADER =
        new GroovyClassLoader(PipelineHarness.classLoader, jenkinsCompilerConfiguration(LibraryVarScript.name))

    PipelineHarness(Map options = [:]) {
        repoRoot = (options.repoRoot ?: defaultRepoRoot()) as File
        tempRoot = Files.createTempDirectory('pipeline-harness').toFile()
        // A name with a space and quote: a script that interpolates paths into sh breaks here.
        workspace = new File(tempRoot, (options.workspaceName ?: "ws of job's \$build") as String)
        workspace.mkdirs()
        cwd = workspace
        resourceRoots << new File(repoRoot, 'resources')
        binding = new Binding(new ScriptVariables(this))

        env.putAll([
            BUILD_NUMBER: '1', BUILD_ID: '1', JOB_NAME: 'test-job', BUILD_TAG: 'jenkins-test-job-1',
            BUILD_URL: 'https://jenkins.example/job/test-job/1/', JENKINS_URL: 'https://jenkins.example/',
            NODE_NAME: 'built-in', WORKSPACE: workspace.path, WORKSPACE_TMP: tmpDirOf(workspace).path,
            PATH: System.getenv('PATH') ?: '/usr/bin:/bin',
        ])
        currentBuild.putAll(number: 1, result: null, currentResult: 'SUCCESS', displayName: '#1',
                            description: null, absoluteUrl: env.BUILD_URL)
        globals.env = env
        globals.params = params
        globals.currentBuild = currentBuild
        globals.scm = [$class: 'GitSCM']
        globals['_'] = null   // the target of `@Library('bluegreen') _`
        registerDefaultSteps()
        // The bluegreen runner asks the stage bundle for its names (--names) before each run: answered by the
        // real bundle of resources/ (a scripted test's stand-in bundle could not), unless a test answers it.
        onSh({ ShCall c -> c.env.BLUEGREEN_NAMES_OF != null }) { ShCall c -> realNames(c) }
    }

    // ---------------------------------------------------------------- loading scripts

    /** The repo root: $BLUEGREEN_REPO_ROOT, else the first parent of the cwd holding vars/. */
    static File defaultRepoRoot() {
        String fromEnv = System.getenv('BLUEGREEN_REPO_ROOT')
        if (fromEnv) {
            return new File(fromEnv).canonicalFile
        }
        File dir = new File('.').canonicalFile
        while (dir != null && !new File(dir, 'vars').isDirectory()) {
            dir = dir.parentFile
        }
        if (dir == null) {
            throw new IllegalStateException('harness: no vars/ dir above the cwd; set BLUEGREEN_REPO_ROOT')
        }
        return dir
    }

    /** The instance of vars/<name>.groovy the Jenkinsfile sees (created on first use, like Jenkins). */
    Script loadVar(String name) {
        return (Script) binding.getVariable(name)
    }

    /** A new instance of vars/<name>.groovy with a binding of its own, as Jenkins creates one for a calling script. */
    Script newVarInstance(String name) {
        Script var = InvokerHelper.createScript(compile(varFile(name)), new Binding(new ScriptVariables(this)))
        varInstances << var
        return var
    }

    /** Loads a script file (a Jenkinsfile, or any .groovy) into this build's binding. */
    Script loadScript(String path) {
        File file = new File(path).isAbsolute() ? new File(path) : new File(repoRoot, path)
        return InvokerHelper.createScript(compile(file), binding)
    }

    /** Loads and runs a script file (a Jenkinsfile); returns what the script returns. */
    Object runScript(String path) {
        return loadScript(path).run()
    }

    /** Compiles script text (e.g. an inline Jenkinsfile) into this build's binding and runs it. */
    Object runScriptText(String text, String name = 'Jenkinsfile') {
        // A fresh class each time: GroovyClassLoader would hand back a cached class of the same name.
        GroovyCodeSource source = new GroovyCodeSource(text, "${name.replaceAll(/\W/, '_')}${++scriptCount}", '/groovy/script')
        source.cachable = false
        Class cls = LOADER.parseClass(source)
        return InvokerHelper.createScript(cls, binding).run()
    }

    /** Jenkins compiles pipeline scripts with NonCPS and Library imported. */
    static CompilerConfiguration jenkinsCompilerConfiguration(String scriptBaseClass = null) {
        CompilerConfiguration configuration = new CompilerConfiguration()
        if (scriptBaseClass) {
            configuration.scriptBaseClass = scriptBaseClass
        }
        configuration.addCompilationCustomizers(new ImportCustomizer()
            .addImports('com.cloudbees.groovy.cps.NonCPS', 'org.jenkinsci.plugins.workflow.libs.Library'))
        return configuration
    }

    File varFile(String name) {
        return new File(repoRoot, "vars/${name}.groovy")
    }

    static Class compile(File file) {
        String key = "${file.canonicalPath}@${file.lastModified()}"
        synchronized (COMPILED) {
            if (!COMPILED.containsKey(key)) {
                boolean isVar = file.parentFile?.name == 'vars'
                COMPILED[key] = (isVar ? VARS_LOADER : LOADER).parseClass(file)
            }
            return COMPILED[key]
        }
    }

    /**
     * One script's binding variables: its own, then the steps and globals, then vars/<name>.groovy,
     * created the first time this script names it and cached here (Jenkins' UserDefinedGlobalVariable).
     */
    static class ScriptVariables extends LinkedHashMap<String, Object> {
        private final PipelineHarness harness

        ScriptVariables(PipelineHarness harness) {
            this.harness = harness
        }

        @Override
        Object get(Object key) {
            if (super.containsKey(key)) {
                return super.get(key)
            }
            if (harness.globals.containsKey(key)) {
                return harness.globals.get(key)
            }
            if (key instanceof String && harness.varFile(key).isFile()) {
                Script var = harness.newVarInstance(key)
                super.put(key, var)
                return var
            }
            return null
        }

        @Override
        boolean containsKey(Object key) {
            return super.containsKey(key) || harness.globals.containsKey(key) ||
                   (key instanceof String && harness.varFile(key).isFile())
        }
    }

    /** A new build of the same job: var instances (and their @Field state) start afresh. */
    void nextBuild() {
        int number = (env.BUILD_NUMBER as int) + 1
        env.BUILD_NUMBER = env.BUILD_ID = "${number}".toString()
        env.BUILD_TAG = "jenkins-${env.JOB_NAME}-${number}".toString()
        env.BUILD_URL = "https://jenkins.example/job/${env.JOB_NAME}/${number}/".toString()
        currentBuild.putAll(number: number, result: null, currentResult: 'SUCCESS', displayName: "#${number}".toString())
        binding.variables.keySet().removeAll { String name -> varFile(name).isFile() }
        varInstances.clear()
        calls.clear()
        stageResults.clear()
        pipelineError = null
    }

    /** Deletes the temp workspace. Call from @After. */
    @Override
    void close() {
        tempRoot.deleteDir()
    }

    // ---------------------------------------------------------------- steps

    /**
     * Binds a step. The implementation gets a StepCall (named args, positional args, body)
     * and its result is the step's result. Replaces any earlier binding of that name.
     */
    void registerStep(String name, Closure impl) {
        steps[name] = impl
        // A null array is what Groovy passes for a single null argument: echo(null).
        Closure step = { Object[] args -> invokeStep(name, args == null ? [null] : args as List) }
        globals[name] = step
    }

    /** Removes a step, as if its plugin were not installed: calling it throws NoSuchMethodError. */
    void removeStep(String name) {
        steps.remove(name)
        globals.remove(name)
    }

    /** Binds steps that only run their body (wrappers a test does not care about). */
    void registerBlockSteps(String... names) {
        for (String name : names) {
            registerStep(name) { StepCall c -> c.body?.call() }
        }
    }

    /** Binds steps that do nothing and return null (properties, archiveArtifacts, ...). */
    void registerNoopSteps(String... names) {
        for (String name : names) {
            registerStep(name) { StepCall c -> null }
        }
    }

    private Object invokeStep(String name, List args) {
        if (!onAgent && name in WORKSPACE_STEPS) {
            record(name, args)
            throw new PipelineError("Required context class hudson.FilePath is missing\nPerhaps you forgot to surround the ${name} " +
                                    'step with a step that provides this, such as: node')
        }
        if (checkSerializable) {
            assertProgramSerializable(name)
        }
        return steps[name].call(record(name, args))
    }

    /**
     * Jenkins saves the program at every step: what it holds must be Serializable. Checks the
     * fields of every var instance and the binding variables of every script (closures and
     * scripts themselves are CPS-transformed in Jenkins, so skipped). Throws an AssertionError
     * naming the holder, like the NotSerializableException a controller would log.
     */
    void assertProgramSerializable(String stepName) {
        Map<String, Object> held = [:]
        binding.variables.each { Object k, Object v -> held["the Jenkinsfile's binding variable ${k}".toString()] = v }
        for (Script var : varInstances) {
            String varName = var.getClass().name
            for (Field field : var.getClass().declaredFields) {
                if (!Modifier.isStatic(field.modifiers) && !field.synthetic && !field.name.contains('$')) {
                    field.accessible = true
                    held["${varName}.${field.name}".toString()] = field.get(var)
                }
            }
            var.binding.variables.each { Object k, Object v -> held["${varName}'s binding variable ${k}".toString()] = v }
        }
        held.each { String holder, Object value ->
            if (value == null || value instanceof Script || value instanceof Closure || value instanceof Class) {
                return
            }
            try {
                new ObjectOutputStream(OutputStream.nullOutputStream()).writeObject(value)
            } catch (NotSerializableException e) {
                throw new AssertionError((Object) ("harness: at the ${stepName} step, ${holder} holds a " +
                    "${e.message}, which is not Serializable: Jenkins fails saving the program (NotSerializableException)").toString())
            }
        }
    }

    /** Records a call that did not go through a bound step (declarative stages, directives). */
    StepCall record(String name, List args) {
        StepCall call = new StepCall(name, args.collect { withPlainStrings(it) })
        calls << call
        return call
    }

    /** The recorded calls of one step, in order. */
    List<StepCall> callsTo(String name) {
        return calls.findAll { it.name == name }
    }

    int callCount(String name) {
        return callsTo(name).size()
    }

    /** The recorded calls as text, one per line: handy in assertion messages. */
    String callLog() {
        return calls*.toString().join('\n')
    }

    /** Runs `body` on an agent, like the node step. */
    Object onNode(Closure body) {
        boolean before = onAgent
        onAgent = true
        try {
            return body.call()
        } finally {
            onAgent = before
        }
    }

    /** Runs `body` with a different working dir, like the dir step. */
    Object inDir(String path, Closure body) {
        File previous = cwd
        cwd = resolve(path)
        cwd.mkdirs()
        try {
            return body.call()
        } finally {
            cwd = previous
        }
    }

    /** Runs `body` with entries added to env, like withEnv (KEY=value, PATH+NAME=dir prepends). */
    Object withEnvironment(List entries, Closure body) {
        Map<String, String> saved = new LinkedHashMap<>(env)
        try {
            for (Object entry : entries) {
                String text = entry
                int eq = text.indexOf('=')
                String key = text.substring(0, eq)
                String value = text.substring(eq + 1)
                if (key.contains('+')) {
                    key = key.substring(0, key.indexOf('+'))
                    value = env[key] ? "${value}${File.pathSeparator}${env[key]}".toString() : value
                }
                env[key] = value
            }
            return body.call()
        } finally {
            env.clear()
            env.putAll(saved)
        }
    }

    File resolve(String path) {
        File file = new File(path)
        return file.isAbsolute() ? file : new File(cwd, path)
    }

    static File tmpDirOf(File dir) {
        return new File(dir.parentFile, "${dir.name}@tmp")
    }

    void log(String text) {
        console.append(text)
        if (!text.endsWith('\n')) {
            console.append('\n')
        }
        if (verbose) {
            System.err.print(text.endsWith('\n') ? text : text + '\n')
        }
    }

    private void registerDefaultSteps() {
        registerStep('echo') { StepCall c -> log(String.valueOf(c.arg('message'))); null }
        registerStep('unstable') { StepCall c ->
            log("WARNING: ${c.arg('message')}")
            currentBuild.result = 'UNSTABLE'
            null
        }
        registerStep('error') { StepCall c ->
            String message = String.valueOf(c.arg('message'))
            log("ERROR: ${message}")
            throw new PipelineError(message)
        }
        registerStep('sh') { StepCall c ->
            if (!unix) {
                // What durable-task says on a Windows agent.
                throw new PipelineError('Cannot run program "nohup": CreateProcess error=2, The system cannot find the file specified')
            }
            runShell(c, 'sh')
        }
        registerStep('powershell') { StepCall c -> runShell(c, 'powershell') }
        registerStep('pwsh') { StepCall c -> runShell(c, 'pwsh') }
        registerStep('bat') { StepCall c -> runShell(c, 'bat') }
        registerStep('isUnix') { StepCall c -> unix }
        registerStep('pwd') { StepCall c -> (c.named.tmp ? tmpDirOf(cwd) : cwd).path }
        registerStep('dir') { StepCall c -> inDir(c.arg('path') as String, c.body) }
        registerStep('deleteDir') { StepCall c -> cwd.deleteDir(); null }
        registerStep('withEnv') { StepCall c -> withEnvironment(c.arg('overrides') as List, c.body) }

        registerStep('writeFile') { StepCall c ->
            File file = resolve(c.arg('file') as String)
            file.parentFile.mkdirs()
            file.setText(c.named.text as String, (c.named.encoding ?: 'UTF-8') as String)
            null
        }
        registerStep('readFile') { StepCall c ->
            File file = resolve(c.arg('file') as String)
            if (!file.isFile()) {
                throw new PipelineError("java.nio.file.NoSuchFileException: ${file}")
            }
            file.getText((c.named.encoding ?: 'UTF-8') as String)
        }
        registerStep('fileExists') { StepCall c -> resolve(c.arg('file') as String).exists() }
        registerStep('writeJSON') { StepCall c ->
            File file = resolve(c.named.file as String)
            file.parentFile.mkdirs()
            String json = JsonOutput.toJson(c.named.json)
            file.setText(c.named.pretty ? JsonOutput.prettyPrint(json) : json, 'UTF-8')
            null
        }
        registerStep('readJSON') { StepCall c ->
            // Without returnPojo Jenkins returns json-lib objects (JSONNull, not null), which the
            // harness cannot mimic faithfully: make scripts ask for plain maps and lists.
            if (!c.named.returnPojo) {
                throw new UnsupportedOperationException('harness: call readJSON with returnPojo: true')
            }
            String text = c.named.text != null ? c.named.text : resolve(c.named.file as String).getText('UTF-8')
            plain(new JsonSlurper().parseText(text))
        }
        registerStep('libraryResource') { StepCall c ->
            String resource = c.arg('resource') as String
            File file = resourceRoots.collect { new File(it, resource) }.find { it.isFile() }
            if (file == null) {
                throw new PipelineError("No such library resource ${resource} could be found.")
            }
            // Without encoding: the controller's platform default; modelled as one that is not UTF-8.
            file.getText((c.named.encoding ?: 'ISO-8859-1') as String)
        }

        registerStep('input') { StepCall c -> inputAnswers ? inputAnswers.remove(0) : null }
        registerStep('timeout') { StepCall c -> c.body.call() }
        registerStep('lock') { StepCall c -> c.body.call() }
        registerStep('retry') { StepCall c -> retrying(c.arg('count') as int, c.body) }
        registerStep('parallel') { StepCall c ->
            c.named.findAll { k, v -> k != 'failFast' }.collectEntries { k, v -> [k, (v as Closure).call()] }
        }
        registerStep('credentials') { StepCall c -> "secret-of-${c.arg('id')}".toString() }
        registerStep('sleep') { StepCall c -> null }
        registerStep('node') { StepCall c -> onNode(c.body) }
        registerBlockSteps('stage', 'script', 'wrap', 'ansiColor',
                           'timestamps', 'catchError', 'nodejs', 'container', 'ws', 'sshagent')
        registerStep('withAWS') { StepCall c -> withEnvironment(withAwsEnvironment(c.named), c.body) }
        registerStep('withCredentials') { StepCall c -> withEnvironment(credentialsEnvironment(c.arg('bindings') as List), c.body) }
        // Credential bindings for withCredentials([...]): what they name, never a secret.
        registerStep('aws') { StepCall c -> [$class: 'AmazonWebServicesCredentialsBinding'] + c.named }
        DeclarativePipeline.register(this)
        registerNoopSteps('milestone', 'properties', 'archiveArtifacts', 'stash', 'unstash', 'checkout',
                          'junit', 'cleanWs', 'buildDiscarder', 'disableConcurrentBuilds', 'logRotator')
    }

    /** The fake AWS keys of a Jenkins credentials id (or what awsCredentials says for it): never real. */
    Map<String, String> awsCredentialsOf(String id) {
        if (awsCredentials.containsKey(id)) {
            return awsCredentials[id]
        }
        String padded = id.toUpperCase().replaceAll(/[^A-Z0-9]/, '').padRight(16, 'X').take(16)
        return [accessKeyId: "AKIA${padded}".toString(), secretAccessKey: "secret-of-${id}".toString()]
    }

    /** What pipeline-aws's withAWS puts into the environment: region, and keys from credentials or a role. */
    List<String> withAwsEnvironment(Map args) {
        List<String> entries = []
        if (args.region) {
            entries += ["AWS_REGION=${args.region}".toString(), "AWS_DEFAULT_REGION=${args.region}".toString()]
        }
        if (args.credentials) {
            Map<String, String> keys = awsCredentialsOf(args.credentials as String)
            entries += ["AWS_ACCESS_KEY_ID=${keys.accessKeyId}".toString(), "AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey}".toString()]
        }
        if (args.role) {
            entries += ['AWS_ACCESS_KEY_ID=ASIAHARNESSROLE00001', "AWS_SECRET_ACCESS_KEY=secret-of-role-${args.role}".toString(),
                        "AWS_SESSION_TOKEN=token-of-role-${args.role}".toString()]
        }
        if (args.profile) {
            entries << "AWS_PROFILE=${args.profile}".toString()
        }
        return entries
    }

    /** What credentials-binding's aws(...) bindings put into the environment. */
    List<String> credentialsEnvironment(List bindings) {
        List<String> entries = []
        for (Object binding : bindings ?: []) {
            if (binding instanceof Map && binding.$class == 'AmazonWebServicesCredentialsBinding') {
                Map<String, String> keys = awsCredentialsOf(binding.credentialsId as String)
                entries << "${binding.accessKeyVariable ?: 'AWS_ACCESS_KEY_ID'}=${keys.accessKeyId}".toString()
                entries << "${binding.secretKeyVariable ?: 'AWS_SECRET_ACCESS_KEY'}=${keys.secretAccessKey}".toString()
            }
        }
        return entries
    }

    private static Object retrying(int count, Closure body) {
        for (int attempt = 1; ; attempt++) {
            try {
                return body.call()
            } catch (PipelineError e) {
                if (attempt >= count) {
                    throw e
                }
            }
        }
    }

    /** Jenkins binds step arguments as Strings: a GString argument arrives as a String. */
    static Object withPlainStrings(Object value) {
        switch (value) {
            case GString: return value.toString()
            case Map: return value.collectEntries([:]) { k, v -> [withPlainStrings(k), withPlainStrings(v)] }
            case List: return value.collect { withPlainStrings(it) }
            default: return value
        }
    }

    /** JSON as plain LinkedHashMap / ArrayList, as readJSON(returnPojo: true) gives. */
    static Object plain(Object value) {
        if (value instanceof Map) {
            return value.collectEntries([:]) { k, v -> [k, plain(v)] }
        }
        if (value instanceof List) {
            return value.collect { plain(it) }
        }
        return value
    }

    // ---------------------------------------------------------------- sh

    /**
     * Handles the sh calls whose script matches `match` (a String contained in the script, a
     * Pattern found in it, or a Closure<Boolean> taking the ShCall). The handler takes the ShCall
     * and returns an Integer (exit status), a String (stdout, status 0) or a Map [status:, stdout:].
     * The handler registered last wins.
     */
    void onSh(Object match, Closure handler) {
        Closure matches
        if (match instanceof Pattern) {
            matches = { ShCall c -> ((Pattern) match).matcher(c.script).find() }
        } else if (match instanceof Closure) {
            matches = (Closure) match
        } else {
            matches = { ShCall c -> c.script.contains(match.toString()) }
        }
        shHandlers.add(0, [matches: matches, handler: handler])
    }

    /** Every sh call runs for real (sh -xe, like Jenkins), with the build's environment. */
    void runShForReal() {
        onSh({ ShCall c -> true }) { ShCall c -> realSh(c) }
    }

    /** Handlers (onSh) answer every shell step: sh, powershell, pwsh and bat; ShCall.shell says which. */
    private Object runShell(StepCall step, String shell) {
        ShCall sh = new ShCall(
            shell: shell,
            label: step.named.label as String,
            script: step.arg('script') as String,
            returnStatus: step.named.returnStatus as boolean,
            returnStdout: step.named.returnStdout as boolean,
            env: new LinkedHashMap<>(env),
            cwd: cwd)
        if (sh.returnStatus && sh.returnStdout) {
            throw new PipelineError('sh: returnStatus and returnStdout are mutually exclusive')
        }
        Map handlerEntry = shHandlers.find { it.matches.call(sh) }
        if (handlerEntry == null) {
            throw new AssertionError((Object) "harness: no onSh handler for ${shell} script:\n${sh.script}".toString())
        }
        Object answer = handlerEntry.handler.call(sh)
        int status = answer instanceof Map ? (answer.status ?: 0) as int : answer instanceof Number ? answer as int : 0
        String stdout = answer instanceof Map ? (answer.stdout ?: '') : answer instanceof String ? answer : ''
        if (!sh.returnStdout && stdout) {
            log(stdout)
        }
        if (sh.returnStatus) {
            return status
        }
        if (status != 0) {
            throw new PipelineError("script returned exit code ${status}")
        }
        return sh.returnStdout ? stdout : null
    }

    /**
     * Runs an sh script with /bin/sh -xe (as Jenkins does: bashisms fail here as on a Debian
     * agent), in the current dir, with the process environment overlaid by the build's env.
     * Stderr goes to the console; stdout too unless returnStdout. Returns [status:, stdout:].
     */
    Map realSh(ShCall sh, long timeoutSeconds = 300) {
        boolean powershell = sh.shell in ['powershell', 'pwsh']
        if (sh.shell == 'bat' || (powershell && !hasPwsh())) {
            throw new AssertionError((Object) "harness: cannot run a ${sh.shell} script here (no pwsh on this machine)".toString())
        }
        File scriptFile = File.createTempFile('script', powershell ? '.ps1' : '.sh', tempRoot)
        File out = File.createTempFile('stdout', '.txt', tempRoot)
        File err = File.createTempFile('stderr', '.txt', tempRoot)
        scriptFile.text = sh.script
        List<String> command = powershell ? ['pwsh', '-NoProfile', '-NonInteractive', '-File', scriptFile.path]
                                          : ['/bin/sh', '-xe', scriptFile.path]
        ProcessBuilder builder = new ProcessBuilder(command)
            .directory(sh.cwd)
            .redirectOutput(out)
            .redirectError(err)
        builder.environment().putAll(sh.env.findAll { k, v -> v != null })
        Process process = builder.start()
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            throw new PipelineError("harness: sh did not finish within ${timeoutSeconds}s:\n${sh.script}")
        }
        log(err.getText('UTF-8'))
        return [status: process.exitValue(), stdout: out.getText('UTF-8')]
    }

    /**
     * Runs the runner's --names call with the real bundle of that name from the resource roots (else the
     * one the runner wrote), on this machine's node, whatever the agent's shell: [status:].
     */
    Map realNames(ShCall sh) {
        String name = new File(sh.env.BLUEGREEN_NAMES_OF).name
        File bundle = resourceRoots.collect { File root -> new File(root, "bluegreen/${name}") }.find { it.isFile() } ?:
                      new File(sh.env.BLUEGREEN_NAMES_OF)
        File err = File.createTempFile('names', '.txt', tempRoot)
        Process process = new ProcessBuilder('node', bundle.path, '--names', '--input', sh.env.BLUEGREEN_INPUT,
                                             '--output', sh.env.BLUEGREEN_OUTPUT)
            .directory(sh.cwd).redirectErrorStream(true).redirectOutput(err).start()
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            throw new PipelineError("harness: ${name} --names did not finish within 60s")
        }
        log(err.getText('UTF-8'))
        return [status: process.exitValue()]
    }

    /** Whether PowerShell (pwsh) is on this machine's PATH. */
    static boolean hasPwsh() {
        return (System.getenv('PATH') ?: '').split(':').any { new File(it, 'pwsh').canExecute() }
    }
}
