#!/usr/bin/env bash
# Phoenix feature: step_ca. A Smallstep CA server as a systemd service. Needs step_cli.
# Params (env): PHOENIX_NAME (CA name, default Phoenix CA), PHOENIX_DNS (comma list, default the
#               hostname), PHOENIX_ADDRESS (default :9000), PHOENIX_PROVISIONER (default admin).
# The CA password is generated inside the guest and never leaves it.
STEPPATH=/etc/step-ca
UNIT=/etc/systemd/system/step-ca.service
ready() { pkg_installed step-ca && [ -f "$STEPPATH/config/ca.json" ] && [ -f "$UNIT" ] && systemctl is-enabled step-ca >/dev/null 2>&1; }

if ready; then
  phoenix_log "step_ca: already initialised"
  exit 0
fi
command -v step >/dev/null 2>&1 || phoenix_fail "step_ca needs the step_cli feature"
if ! pkg_installed step-ca; then
  phoenix_progress 20 "installing step-ca"
  apt_update_once
  apt-get install -y -q step-ca
fi
if [ ! -f "$STEPPATH/config/ca.json" ]; then
  phoenix_progress 50 "initialising the CA"
  install -d -m 0700 "$STEPPATH"
  [ -s "$STEPPATH/password.txt" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$STEPPATH/password.txt")
  STEPPATH="$STEPPATH" step ca init --name "${PHOENIX_NAME:-Phoenix CA}" --dns "${PHOENIX_DNS:-$(hostname)}" \
    --address "${PHOENIX_ADDRESS:-:9000}" --provisioner "${PHOENIX_PROVISIONER:-admin}" \
    --password-file "$STEPPATH/password.txt" --provisioner-password-file "$STEPPATH/password.txt"
fi
phoenix_progress 80 "installing the service"
cat >"$UNIT" <<UNIT
[Unit]
Description=Smallstep CA
After=network-online.target

[Service]
Environment=STEPPATH=${STEPPATH}
ExecStart=/usr/bin/step-ca ${STEPPATH}/config/ca.json --password-file ${STEPPATH}/password.txt
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable step-ca
systemctl restart step-ca
phoenix_progress 100 "step-ca ready"
