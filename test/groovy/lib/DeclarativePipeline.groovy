/**
 * Stubs for Declarative Pipeline (`pipeline { agent ...; stages { stage('x') { steps { ... } } }; post { ... } }`),
 * enough to run a Jenkinsfile through the harness: sections are collected first, then run in
 * Jenkins' order (parameters, environment, stages with when/input/post, then post).
 *
 * A failing stage marks the build FAILURE, skips the stages after it and runs the matching post
 * blocks; the error is not rethrown (Jenkins ends the build instead): tests check
 * h.currentBuild.result, h.stageResults and h.pipelineError. Directives a test rarely cares about
 * (agent, options, tools, triggers, libraries) are recorded as calls named `options.timeout`,
 * `agent.label`, ... Not supported: matrix.
 */
class DeclarativePipeline {

    private final PipelineHarness h

    DeclarativePipeline(PipelineHarness h) {
        this.h = h
    }

    /** Binds the `pipeline` step in the harness. */
    static void register(PipelineHarness h) {
        h.registerStep('pipeline') { StepCall c -> new DeclarativePipeline(h).run(c.body) }
    }

    void run(Closure body) {
        PipelineSection spec = new PipelineSection(h)
        collect(body, spec)
        spec.parameterDefaults.each { String name, Object value -> h.params.putIfAbsent(name, value) }
        boolean onAgentBefore = h.onAgent
        h.onAgent = !spec.agentNone
        try {
            h.withEnvironment(spec.environmentEntries) {
                runStages(spec.stageList)
                runPost(spec.postConditions)
            }
        } catch (PipelineError e) {
            fail(e)
        } finally {
            h.onAgent = onAgentBefore
        }
        if (h.currentBuild.result == null) {
            h.currentBuild.result = 'SUCCESS'
        }
    }

    /** Runs a section body against a spec object (directives first, then the enclosing script). */
    static void collect(Closure body, Object spec) {
        Closure section = (Closure) body.clone()
        section.delegate = spec
        section.resolveStrategy = Closure.DELEGATE_FIRST
        section.call()
    }

    /** Runs a block of steps: every name in it is a step or a variable of the script. */
    static Object runSteps(Closure body) {
        Closure steps = (Closure) body.clone()
        steps.delegate = new ScriptScope(body.thisObject)
        steps.resolveStrategy = Closure.DELEGATE_FIRST
        return steps.call()
    }

    private void fail(Throwable e) {
        if (h.pipelineError == null) {
            h.pipelineError = e
        }
        h.currentBuild.result = h.currentBuild.currentResult = 'FAILURE'
        h.log("ERROR: ${e.message}")
    }

    private boolean failed() {
        return h.currentBuild.currentResult == 'FAILURE'
    }

    private void runStages(List<StageSection> stages) {
        for (StageSection stage : stages) {
            runStage(stage)
        }
    }

    private void runStage(StageSection stage) {
        h.record('stage', [stage.name])
        if (failed()) {
            h.stageResults << [name: stage.name, status: 'SKIPPED', reason: 'earlier failure']
            return
        }
        if (stage.inputArgs != null && !stage.beforeInputWhen) {
            h.binding.getVariable('input').call(stage.inputArgs)
        }
        if (stage.whenSection != null && !stage.whenSection.passes()) {
            h.stageResults << [name: stage.name, status: 'SKIPPED', reason: 'when']
            return
        }
        Map result = [name: stage.name, status: 'SUCCESS', agent: stage.agentLabel]
        h.stageResults << result
        // Jenkins allocates the stage's agent after its input directive: nobody's answer holds an executor.
        boolean onAgentBefore = h.onAgent
        boolean unixBefore = h.unix
        try {
            h.withEnvironment(stage.environmentEntries) {
                if (stage.inputArgs != null && stage.beforeInputWhen) {
                    h.binding.getVariable('input').call(stage.inputArgs)
                }
                if (stage.agentLabel != null) {
                    h.onAgent = true
                    h.unix = !stage.agentLabel.toLowerCase().contains('windows')
                }
                if (stage.stepsBody != null) {
                    runSteps(stage.stepsBody)
                }
                runStages(stage.stageList)
                runParallel(stage)
            }
        } catch (PipelineError e) {
            result.status = 'FAILURE'
            fail(e)
        } finally {
            h.onAgent = onAgentBefore
            h.unix = unixBefore
        }
        if (stage.parallelStages.any { it.failed } || stage.stageList.any { it.failed }) {
            result.status = 'FAILURE'
        }
        stage.failed = result.status == 'FAILURE'
        runPost(stage.postConditions, stage.failed ? 'FAILURE' : 'SUCCESS')
    }

    private void runParallel(StageSection stage) {
        for (StageSection branch : stage.parallelStages) {
            if (stage.failFastEnabled && stage.parallelStages.any { it.failed }) {
                h.stageResults << [name: branch.name, status: 'SKIPPED', reason: 'failFast']
                continue
            }
            // Branches do not skip each other: reset the build's failure while each one runs.
            String resultBefore = h.currentBuild.currentResult
            h.currentBuild.currentResult = 'SUCCESS'
            runStage(branch)
            if (resultBefore == 'FAILURE') {
                h.currentBuild.currentResult = 'FAILURE'
            }
        }
    }

    /** Post conditions in Jenkins' order; `result` is the stage's (or the build's) result. */
    private void runPost(Map<String, Closure> post, String result = null) {
        String outcome = result ?: h.currentBuild.currentResult
        Map<String, Boolean> applies = [
            always: true, changed: false, fixed: false, regression: false, aborted: outcome == 'ABORTED',
            failure: outcome == 'FAILURE', success: outcome == 'SUCCESS', unstable: outcome == 'UNSTABLE',
            unsuccessful: outcome != 'SUCCESS', cleanup: true,
        ]
        applies.each { String condition, Boolean runs ->
            if (runs && post.containsKey(condition)) {
                h.record("post.${condition}", [])
                try {
                    runSteps(post[condition])
                } catch (PipelineError e) {
                    fail(e)
                }
            }
        }
    }
}

/** The top-level sections of `pipeline { }`. */
class PipelineSection extends DirectiveRecorder {
    final Map<String, Object> parameterDefaults = [:]
    final List<String> environmentEntries = []
    final List<StageSection> stageList = []
    final Map<String, Closure> postConditions = [:]

    PipelineSection(PipelineHarness h) {
        super(h, '')
    }

    // `agent any` / `agent none` read these as properties.
    final String any = 'any'
    final String none = 'none'

    /** `agent none`: no workspace outside the stages that declare their own agent. */
    boolean agentNone

    void agent(Object which) {
        record('agent', which)
        agentNone = which == 'none'
    }

    void agent(Closure body) {
        recordBlock('agent', body)
    }

    void environment(Closure body) {
        EnvironmentSection spec = new EnvironmentSection()
        DeclarativePipeline.collect(body, spec)
        environmentEntries.addAll(spec.entries)
    }

    void parameters(Closure body) {
        ParametersSection spec = new ParametersSection(h)
        DeclarativePipeline.collect(body, spec)
        parameterDefaults.putAll(spec.defaults)
    }

    void stages(Closure body) {
        stageList.addAll(StageSection.collectStages(h, body))
    }

    void post(Closure body) {
        postConditions.putAll(PostSection.collectPost(body))
    }

    void options(Closure body) {
        recordBlock('options', body)
    }

    void tools(Closure body) {
        recordBlock('tools', body)
    }

    void triggers(Closure body) {
        recordBlock('triggers', body)
    }

    void libraries(Closure body) {
        recordBlock('libraries', body)
    }
}

/** One `stage('name') { }`: its directives and steps, and whether it failed once run. */
class StageSection extends DirectiveRecorder {
    final String name
    Closure stepsBody
    WhenSection whenSection
    Map inputArgs
    boolean beforeInputWhen
    boolean failFastEnabled
    boolean failed
    /** The stage's own agent: its label, 'any', or null when it has none (it runs where its parent does). */
    String agentLabel
    final List<String> environmentEntries = []
    final List<StageSection> stageList = []
    final List<StageSection> parallelStages = []
    final Map<String, Closure> postConditions = [:]

    StageSection(PipelineHarness h, String name) {
        super(h, '')
        this.name = name
    }

    /** The stages declared in a `stages { }` or `parallel { }` body. */
    static List<StageSection> collectStages(PipelineHarness h, Closure body) {
        StagesSection spec = new StagesSection(h)
        DeclarativePipeline.collect(body, spec)
        return spec.stages
    }

    // `agent any` / `agent none` read these as properties.
    final String any = 'any'
    final String none = 'none'

    void agent(Object which) {
        record('agent', which)
        agentLabel = which == 'none' ? null : which as String
    }

    void agent(Closure body) {
        int before = h.calls.size()
        recordBlock('agent', body)
        StepCall label = h.calls.drop(before).find { it.name == 'agent.label' }
        agentLabel = label ? label.arg('label') as String : 'any'
    }

    void steps(Closure body) {
        stepsBody = body
    }

    void when(Closure body) {
        whenSection = new WhenSection(h)
        DeclarativePipeline.collect(body, whenSection)
        beforeInputWhen = whenSection.beforeInputSet
    }

    void input(Closure body) {
        InputSection spec = new InputSection()
        DeclarativePipeline.collect(body, spec)
        inputArgs = spec.values
    }

    void environment(Closure body) {
        EnvironmentSection spec = new EnvironmentSection()
        DeclarativePipeline.collect(body, spec)
        environmentEntries.addAll(spec.entries)
    }

    void stages(Closure body) {
        stageList.addAll(collectStages(h, body))
    }

    void parallel(Closure body) {
        parallelStages.addAll(collectStages(h, body))
    }

    void failFast(boolean value) {
        failFastEnabled = value
    }

    void post(Closure body) {
        postConditions.putAll(PostSection.collectPost(body))
    }

    void options(Closure body) {
        recordBlock('options', body)
    }

    void tools(Closure body) {
        recordBlock('tools', body)
    }

    void matrix(Closure ignored) {
        throw new UnsupportedOperationException("harness: matrix is not supported (stage '${name}')")
    }
}

/** The body of `stages { }` / `parallel { }`. */
class StagesSection {
    final PipelineHarness h
    final List<StageSection> stages = []

    StagesSection(PipelineHarness h) {
        this.h = h
    }

    void stage(String name, Closure body) {
        StageSection stage = new StageSection(h, name)
        DeclarativePipeline.collect(body, stage)
        stages << stage
    }
}

/** The body of `environment { NAME = value }`: becomes withEnv entries. */
class EnvironmentSection {
    final List<String> entries = []

    void propertyMissing(String name, Object value) {
        entries << "${name}=${value}".toString()
    }
}

/** The body of `parameters { }`: each parameter's default value. */
class ParametersSection extends DirectiveRecorder {
    final Map<String, Object> defaults = [:]

    ParametersSection(PipelineHarness h) {
        super(h, 'parameters.')
    }

    void string(Map args) {
        define(args, 'string', args.defaultValue ?: '')
    }

    void text(Map args) {
        define(args, 'text', args.defaultValue ?: '')
    }

    void booleanParam(Map args) {
        define(args, 'booleanParam', args.defaultValue ?: false)
    }

    void password(Map args) {
        define(args, 'password', args.defaultValue ?: '')
    }

    void choice(Map args) {
        List choices = args.choices instanceof String ? ((String) args.choices).readLines() : (List) args.choices
        define(args, 'choice', choices ? choices[0] : null)
    }

    private void define(Map args, String kind, Object defaultValue) {
        record(kind, args)
        defaults[(String) args.name] = defaultValue
    }
}

/** The body of `post { always { } failure { } ... }`. */
class PostSection {
    final Map<String, Closure> conditions = [:]

    static Map<String, Closure> collectPost(Closure body) {
        PostSection spec = new PostSection()
        DeclarativePipeline.collect(body, spec)
        return spec.conditions
    }

    Object methodMissing(String name, Object args) {
        Object[] list = (Object[]) args
        if (list.length != 1 || !(list[0] instanceof Closure)) {
            throw new MissingMethodException(name, PostSection, list)
        }
        conditions[name] = (Closure) list[0]
        return null
    }
}

/** The body of a stage's `input { message '...'; ok '...' }`: the input step's arguments. */
class InputSection {
    final Map<String, Object> values = [:]

    Object methodMissing(String name, Object args) {
        Object[] list = (Object[]) args
        values[name] = list.length == 1 ? list[0] : list.toList()
        return null
    }
}

/** The body of `when { }`: all conditions must pass. */
class WhenSection {
    final PipelineHarness h
    final List<Closure> conditions = []
    boolean beforeInputSet

    WhenSection(PipelineHarness h) {
        this.h = h
    }

    boolean passes() {
        return conditions.every { it.call() }
    }

    void beforeInput(boolean value) {
        beforeInputSet = value
    }

    /** No agents or options in the harness: recorded only. */
    void beforeAgent(boolean value) {
        h.record('when.beforeAgent', [value])
    }

    void beforeOptions(boolean value) {
        h.record('when.beforeOptions', [value])
    }

    void branch(String pattern) {
        conditions << { glob(pattern, h.env.BRANCH_NAME) }
    }

    void branch(Map args) {
        branch((String) args.pattern)
    }

    void tag(String pattern) {
        conditions << { glob(pattern, h.env.TAG_NAME) }
    }

    @SuppressWarnings(['BuilderMethodWithSideEffects', 'FactoryMethodName'])  // Jenkins' name for it
    void buildingTag() {
        conditions << { h.env.TAG_NAME != null }
    }

    void changeRequest() {
        conditions << { h.env.CHANGE_ID != null }
    }

    void environment(Map args) {
        conditions << { h.env[(String) args.name] == args.value }
    }

    @SuppressWarnings('EqualsOverloaded')  // the `equals expected: x, actual: y` condition
    void equals(Map args) {
        conditions << { args.expected == args.actual }
    }

    void expression(Closure body) {
        conditions << { DeclarativePipeline.runSteps(body) as boolean }
    }

    void not(Closure body) {
        WhenSection inner = nested(body)
        conditions << { !inner.passes() }
    }

    void allOf(Closure body) {
        WhenSection inner = nested(body)
        conditions << { inner.passes() }
    }

    void anyOf(Closure body) {
        WhenSection inner = nested(body)
        conditions << { inner.conditions.any { it.call() } }
    }

    private WhenSection nested(Closure body) {
        WhenSection inner = new WhenSection(h)
        DeclarativePipeline.collect(body, inner)
        return inner
    }

    /** Ant-style glob as Jenkins' branch/tag conditions use (* and ?). */
    private static boolean glob(String pattern, String value) {
        if (value == null) {
            return false
        }
        String regex = pattern.collect { String ch ->
            ch == '*' ? '.*' : ch == '?' ? '.' : java.util.regex.Pattern.quote(ch)
        }.join('')
        return value ==~ regex
    }
}

/** Directives recorded as calls (e.g. `options.timeout`), their bodies recorded the same way. */
class DirectiveRecorder {
    final PipelineHarness h
    final String prefix

    DirectiveRecorder(PipelineHarness h, String prefix) {
        this.h = h
        this.prefix = prefix
    }

    void record(String name, Object... args) {
        h.record("${prefix}${name}".toString(), args as List)
    }

    void recordBlock(String name, Closure body) {
        DeclarativePipeline.collect(body, new DirectiveRecorder(h, "${prefix}${name}."))
    }

    Object methodMissing(String name, Object args) {
        Object[] list = (Object[]) args
        if (list && list[-1] instanceof Closure) {
            recordBlock(name, (Closure) list[-1])
            record(name, list[0..-2] as Object[])
        } else {
            record(name, list)
        }
        return null
    }
}

/** Resolves every name in a steps block against the script: steps, vars, env, params, ... */
class ScriptScope {
    private final Object script

    ScriptScope(Object script) {
        this.script = script
    }

    Object methodMissing(String name, Object args) {
        try {
            return script.invokeMethod(name, args)
        } catch (MissingMethodException e) {
            // As Jenkins says it; an Error, so Groovy does not go on to look in the enclosing sections.
            if (e.method == name && e.type == script.getClass()) {
                throw new NoSuchMethodError("No such DSL method '${name}' found among steps")
            }
            throw e
        }
    }

    /** `sleep` is a step here, not Groovy's Object.sleep(ms). */
    Object sleep(Object... args) {
        return methodMissing('sleep', args)
    }

    Object propertyMissing(String name) {
        return script.getProperty(name)
    }

    void propertyMissing(String name, Object value) {
        script.setProperty(name, value)
    }
}
