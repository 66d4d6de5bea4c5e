# Sourced by ./jquant and ./test: sets JAVA_HOME to a JDK 25+ or exits with a clear message.
# Looks at JAVA_HOME first, then the usual JVM install directories.
jquant_jdk_major() { # prints the major version of the JDK at $1, or nothing
  [[ -x "$1/bin/java" && -f "$1/release" ]] || return 0
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release"
}

jquant_find_jdk() {
  local candidates=() c major
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME")
  candidates+=(/usr/lib/jvm/*25* /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/lib/jvm/* \
               "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home)
  for c in "${candidates[@]}"; do
    [[ -d "$c" ]] || continue
    major="$(jquant_jdk_major "$c")"
    if [[ -n "$major" && "$major" -ge 25 ]]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if ! JQUANT_JDK="$(jquant_find_jdk)"; then
  echo "jquant: JDK 25 or newer not found (looked at JAVA_HOME=${JAVA_HOME:-<unset>}, /usr/lib/jvm, /opt, ~/.sdkman, ~/.jdks)." >&2
  echo "jquant: install a JDK 25 (e.g. Temurin 25) and/or point JAVA_HOME at it." >&2
  exit 3
fi
export JAVA_HOME="$JQUANT_JDK"
