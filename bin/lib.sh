# Shared by bin/portcullis, bin/test and .ci/run: find JDK 25 and the project root.
PORTCULLIS_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Prints a JDK home whose java is version 25 or newer, or fails saying what to install.
portcullis_java_home() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/temurin-2[5-9]* /usr/lib/jvm/java-2[5-9]-*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    local v
    v=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
    if [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "portcullis: needs a JDK 25 (Temurin). Set JAVA_HOME to it, or install it under /usr/lib/jvm." >&2
  return 1
}
