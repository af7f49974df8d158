#!/usr/bin/env bash
# Phoenix feature: step_cli. The Smallstep CLI from Smallstep's apt repository, optionally
# bootstrapped against a CA. Params (env): PHOENIX_CA_URL, PHOENIX_FINGERPRINT (both or neither).
CA_URL="${PHOENIX_CA_URL:-}"
FP="${PHOENIX_FINGERPRINT:-}"
bootstrapped() { [ -z "$CA_URL" ] || grep -qs "\"ca-url\": \"${CA_URL}\"" "${STEPPATH:-/root/.step}/config/defaults.json"; }

if pkg_installed step-cli && command -v step >/dev/null 2>&1 && bootstrapped; then
  phoenix_log "step_cli: already installed"
  exit 0
fi

if ! pkg_installed step-cli; then
  phoenix_progress 20 "adding Smallstep's apt repository"
  apt_install ca-certificates curl gnupg
  install -m 0755 -d /etc/apt/keyrings
  retry 3 5 curl -fsSL https://packages.smallstep.com/keys/apt/repo-signing-key.gpg -o /etc/apt/keyrings/smallstep.asc
  echo 'deb [signed-by=/etc/apt/keyrings/smallstep.asc] https://packages.smallstep.com/stable/debian debs main' \
    >/etc/apt/sources.list.d/smallstep.list
  apt_update
  phoenix_progress 50 "installing step-cli"
  apt-get install -y -q step-cli
fi
if [ -n "$CA_URL" ]; then
  [ -n "$FP" ] || phoenix_fail "step_cli: ca_url needs a fingerprint"
  phoenix_progress 80 "bootstrapping against ${CA_URL}"
  step ca bootstrap --ca-url "$CA_URL" --fingerprint "$FP" --install --force
fi
phoenix_progress 100 "step cli ready"
