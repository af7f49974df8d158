#!/usr/bin/env bash
# Phoenix feature: traefik. The Traefik binary release with a systemd unit.
# Params (env): PHOENIX_VERSION (release tag, default v3.1.6).
WANT="${PHOENIX_VERSION:-v3.1.6}"
BIN=/usr/local/bin/traefik
UNIT=/etc/systemd/system/traefik.service
ready() { [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -q "${WANT#v}" && [ -f "$UNIT" ] && systemctl is-enabled traefik >/dev/null 2>&1; }

if ready; then
  phoenix_log "traefik: ${WANT} already installed"
  exit 0
fi
phoenix_progress 10 "installing prerequisites"
apt_install ca-certificates curl tar
phoenix_progress 30 "downloading traefik ${WANT}"
ARCH="$(deb_arch)"
retry 3 5 curl -fsSL -o /tmp/traefik.tar.gz "https://github.com/traefik/traefik/releases/download/${WANT}/traefik_${WANT}_linux_${ARCH}.tar.gz"
tar -xzf /tmp/traefik.tar.gz -C /usr/local/bin traefik
rm -f /tmp/traefik.tar.gz
chmod 0755 "$BIN"
install -d /etc/traefik /etc/traefik/dynamic
[ -f /etc/traefik/traefik.yaml ] || cat >/etc/traefik/traefik.yaml <<CONF
entryPoints:
  web:
    address: ":80"
  websecure:
    address: ":443"
providers:
  file:
    directory: /etc/traefik/dynamic
    watch: true
CONF
phoenix_progress 80 "installing the service"
cat >"$UNIT" <<UNIT
[Unit]
Description=Traefik
After=network-online.target

[Service]
ExecStart=${BIN} --configFile=/etc/traefik/traefik.yaml
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable traefik
systemctl restart traefik
phoenix_progress 100 "traefik ${WANT} ready"
