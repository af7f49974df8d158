#!/usr/bin/env bash
# Phoenix feature: ollama. Ollama with its systemd service listening on all addresses.
# Params (env): PHOENIX_HOST (listen address, default 0.0.0.0:11434).
LISTEN="${PHOENIX_HOST:-0.0.0.0:11434}"
OVERRIDE=/etc/systemd/system/ollama.service.d/phoenix.conf
WANT_OVERRIDE="[Service]
Environment=OLLAMA_HOST=${LISTEN}"

if command -v ollama >/dev/null 2>&1 && [ "$(cat "$OVERRIDE" 2>/dev/null)" = "$WANT_OVERRIDE" ]; then
  phoenix_log "ollama: already installed"
  exit 0
fi

command -v nvidia-smi >/dev/null 2>&1 || phoenix_log "ollama: no nvidia-smi; it will run on the CPU"
if ! command -v ollama >/dev/null 2>&1; then
  phoenix_progress 10 "installing prerequisites"
  apt_install ca-certificates curl
  phoenix_progress 20 "running the ollama installer"
  retry 3 5 curl -fsSL https://ollama.com/install.sh -o /tmp/ollama-install.sh
  sh /tmp/ollama-install.sh
  rm -f /tmp/ollama-install.sh
fi
phoenix_progress 80 "configuring the service for ${LISTEN}"
mkdir -p "$(dirname "$OVERRIDE")"
printf '%s\n' "$WANT_OVERRIDE" >"$OVERRIDE"
systemctl daemon-reload
systemctl enable ollama
systemctl restart ollama
retry 10 2 curl -fsS "http://127.0.0.1:${LISTEN##*:}/api/tags" >/dev/null || phoenix_fail "ollama does not answer on ${LISTEN}"
phoenix_progress 100 "ollama ready"
