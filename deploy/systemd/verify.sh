#!/usr/bin/env bash
# Checks the systemd units in this directory with `systemd-analyze verify` (called by .ci/run).
#
# verify fails when ExecStart's executable does not exist, and the units name /usr/bin/node, the
# Debian path. Each unit is therefore verified as a copy whose ExecStart uses the node found on
# PATH; the script path after it is not checked by systemd. Warnings (e.g. a misspelt KillMode=,
# which systemd only warns about) fail the check too.
#
# The agent unit is also held to the shape it must keep: root, Type=exec, KillMode=mixed, a stop
# timeout, ordering after pve-cluster, secrets through LoadCredential=, and none of the sandboxing
# options that qm/pct cannot live with (QEMU inherits them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
node_bin="$(command -v node)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0

for unit in "$here"/*.service; do
  name="$(basename "$unit")"
  sed -e "s#^ExecStart=/usr/bin/node #ExecStart=${node_bin} #" "$unit" >"$tmp/$name"
  if ! out="$(systemd-analyze verify "$tmp/$name" 2>&1)" || [ -n "$out" ]; then
    echo "FAIL $name" >&2
    printf '%s\n' "${out//$tmp\//}" >&2
    status=1
  else
    echo "ok   $name"
  fi
done

agent="$here/phoenix-agent.service"
require() {
  grep -Eq "$1" "$agent" || { echo "FAIL phoenix-agent.service: missing $1" >&2; status=1; }
}
require '^Type=exec$'
require '^User=root$'
require '^KillMode=mixed$'
require '^TimeoutStopSec=[0-9]+s?$'
require '^After=.*pve-cluster\.service'
require '^Wants=.*pve-cluster\.service'
require '^LoadCredential=tls\.key:'
for forbidden in ProtectSystem PrivateDevices PrivateTmp NoNewPrivileges MemoryDenyWriteExecute SystemCallFilter \
  RestrictNamespaces ProtectKernelTunables ProtectKernelModules ProtectControlGroups ProtectClock RestrictSUIDSGID; do
  if grep -Eq "^${forbidden}=" "$agent"; then
    echo "FAIL phoenix-agent.service: ${forbidden}= breaks qm/pct (see the comment in the unit)" >&2
    status=1
  fi
done
[ "$status" = 0 ] && echo "ok   phoenix-agent.service shape"
exit "$status"
