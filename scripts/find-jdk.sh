#!/usr/bin/env bash
# Sourced by ./mm4j, ./run-tests and .ci/run: exports JAVA_HOME pointing at a JDK >= 25.
# Order: $JAVA_HOME, then `java` on PATH, then the usual install folders. Fails with a clear message.
# Every ./mm4j launch runs this, so the usual paths start no process: the JDK's `release` file is read with bash's
# own `read` (no sed, no JVM), candidates are tried in order and the first good one ends the search (a good
# $JAVA_HOME before javac on PATH is resolved), and paths are cut by parameter expansion, not dirname.
mm4j_java_major() {
  # sets mm4j_major: the JDK's release file answers without starting a JVM (which costs a launch its fast start)
  local line
  mm4j_major=""
  if [ -f "$1/release" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in
        JAVA_VERSION=\"[0-9]*) mm4j_major=${line#JAVA_VERSION=\"}; mm4j_major=${mm4j_major%%[!0-9]*}; return 0 ;;
      esac
    done < "$1/release"
  fi
  mm4j_major=$("$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = //p' | head -n1)
}
mm4j_try_jdk() {
  # exports JAVA_HOME=$1 and returns 0 when $1 is a JDK >= 25
  [ -x "$1/bin/javac" ] || return 1
  mm4j_java_major "$1"
  case "$mm4j_major" in ''|*[!0-9]*) return 1 ;; esac
  [ "$mm4j_major" -ge 25 ] || return 1
  export JAVA_HOME="$1"
  # Maven's own Guice still calls sun.misc.Unsafe; JDK 24+ warns on every build unless told it is allowed
  case " ${MAVEN_OPTS:-} " in *sun-misc-unsafe*) ;; *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;; esac
}
mm4j_find_jdk() {
  local c javac
  [ -n "${JAVA_HOME:-}" ] && mm4j_try_jdk "$JAVA_HOME" && return 0
  # javac on PATH: its JDK is the folder above its bin/ once symlinks (/usr/bin -> /etc/alternatives) are resolved
  javac=$(command -v javac 2>/dev/null) && javac=$(readlink -f "$javac") && javac=${javac%/*} &&
    mm4j_try_jdk "${javac%/*}" && return 0
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$c" ] && mm4j_try_jdk "$c" && return 0
  done
  echo "mm4j: no JDK 25 or newer found (looked at \$JAVA_HOME, javac on PATH, /usr/lib/jvm, /opt)." >&2
  echo "mm4j: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
mm4j_find_jdk
