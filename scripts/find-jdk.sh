#!/usr/bin/env bash
# Sourced by ./mm4j, ./run-tests and .ci/run: exports JAVA_HOME pointing at a JDK >= 25.
# Order: $JAVA_HOME, then `java` on PATH, then the usual install folders. Fails with a clear message.
mm4j_java_major() {
  # the JDK's release file answers without starting a JVM (which costs a launch its fast start)
  local r=""
  [ -f "$1/release" ] && r=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" | head -n1)
  if [ -n "$r" ]; then echo "$r"; return 0; fi
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1
}
mm4j_find_jdk() {
  local c v
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v javac >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  fi
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$c" ] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/javac" ] || continue
    v=$(mm4j_java_major "$c")
    case "$v" in ''|*[!0-9]*) continue ;; esac
    if [ "$v" -ge 25 ]; then
      export JAVA_HOME="$c"
      # Maven's own Guice still calls sun.misc.Unsafe; JDK 24+ warns on every build unless told it is allowed
      case " ${MAVEN_OPTS:-} " in *sun-misc-unsafe*) ;; *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;; esac
      return 0
    fi
  done
  echo "mm4j: no JDK 25 or newer found (looked at \$JAVA_HOME, javac on PATH, /usr/lib/jvm, /opt)." >&2
  echo "mm4j: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
mm4j_find_jdk
