package org.jenkinsci.plugins.workflow.libs

import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy

/** Stand-in for Jenkins' @Library: the harness already has this library's vars on hand. */
@Retention(RetentionPolicy.SOURCE)
@interface Library {
    String[] value() default []
    boolean changelog() default true
}
