package org.mm4j.base;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a public class or member that is not part of mm4j's API: it is public only because another mm4j package
 * (named in {@link #value()}) or its tests need it, the way JCTools marks its internals. It may change or go away
 * in any release; code outside mm4j must not use it.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.FIELD, ElementType.CONSTRUCTOR})
public @interface InternalApi {
    /** The mm4j packages (or "tests") that use it, e.g. {@code "org.mm4j.slab"}. */
    String value() default "";
}
