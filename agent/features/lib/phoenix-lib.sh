# Phoenix feature library: prepended to every feature and application script before it is pushed
# into a guest. Scripts run as root inside Debian/Ubuntu guests with bash.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"

# One progress line the agent turns into a percent event: "::progress <0-100> <message>".
phoenix_progress() { local pct="$1"; shift; echo "::progress ${pct} $*"; }
phoenix_log() { echo "phoenix: $*"; }
phoenix_fail() { echo "phoenix: ERROR: $*" >&2; exit 1; }

# True when a Debian package is fully installed.
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

PHOENIX_APT_UPDATED="${PHOENIX_APT_UPDATED:-}"
apt_update() { apt-get update -q; PHOENIX_APT_UPDATED=1; }
apt_update_once() { [ -n "$PHOENIX_APT_UPDATED" ] || apt_update; }

# Installs only the packages that are missing.
apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  apt_update_once
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

os_field() { ( . /etc/os-release && eval "echo \"\${$1:-}\"" ); }
deb_arch() { dpkg --print-architecture 2>/dev/null || echo amd64; }

# Retries a command: retry <attempts> <delay seconds> <command...>
retry() {
  local n="$1" d="$2" i; shift 2
  for ((i = 1; i <= n; i++)); do
    if "$@"; then return 0; fi
    [ "$i" -lt "$n" ] && sleep "$d"
  done
  return 1
}
