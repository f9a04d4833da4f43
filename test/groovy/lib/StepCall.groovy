import org.codehaus.groovy.runtime.InvokerHelper

/** One recorded step call. */
class StepCall {
    final String name
    final List args

    StepCall(String name, List args) {
        this.name = name
        this.args = args
    }

    /** Named arguments (the step's first argument when it is a Map), else empty. */
    Map getNamed() {
        return args && args[0] instanceof Map ? (Map) args[0] : [:]
    }

    /** Positional arguments, without the named-args map and the body. */
    List getPositional() {
        return args.findAll { !(it instanceof Map) && !(it instanceof Closure) }
    }

    /** The block passed to the step, if any. */
    Closure getBody() {
        return args && args[-1] instanceof Closure ? (Closure) args[-1] : null
    }

    /** The step's main argument: named `key` if given, else the first positional one. */
    Object arg(String key) {
        return named.containsKey(key) ? named[key] : positional ? positional[0] : null
    }

    @Override
    String toString() {
        return "${name}(${args.collect { it instanceof Closure ? '{...}' : InvokerHelper.inspect(it) }.join(', ')})"
    }
}
