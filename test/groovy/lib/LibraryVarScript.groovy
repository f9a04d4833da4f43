/**
 * The base class the harness compiles vars/*.groovy with: a call to a step that is not installed
 * throws what Jenkins throws (java.lang.NoSuchMethodError "No such DSL method ..."), so a var can
 * detect an optional plugin's step (Badge's addSummary, JUnit's junit) as it would on a controller.
 */
@SuppressWarnings('AbstractClassWithoutAbstractMethod')   // Script's run() stays abstract: each var compiles its own
abstract class LibraryVarScript extends Script {
    @SuppressWarnings('UnusedMethodParameter')   // Groovy's methodMissing signature
    Object methodMissing(String name, Object args) {
        throw new NoSuchMethodError("No such DSL method '${name}' found among steps")
    }
}
