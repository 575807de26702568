package org.mm4j.testing;

/** Runs a test's body with a system property set (null: cleared), and puts back what was there. */
public final class SystemProperties {
    private SystemProperties() {
    }

    /** A test body that may throw. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body} with {@code key} set to {@code value} (null: cleared), then restores the old value. */
    public static void with(final String key, final String value, final Body body) throws Exception {
        final String old = System.getProperty(key);
        set(key, value);
        try {
            body.run();
        } finally {
            set(key, old);
        }
    }

    private static void set(final String key, final String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
