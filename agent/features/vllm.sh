#!/usr/bin/env bash
# Phoenix feature: vllm. vLLM in a virtualenv at /opt/vllm. Needs the nvidia feature.
# Params (env): PHOENIX_VERSION (vLLM release, default 0.10.2).
VENV=/opt/vllm
WANT="${PHOENIX_VERSION:-0.10.2}"

installed_version() { "$VENV/bin/python" -c 'import vllm; print(vllm.__version__)' 2>/dev/null || true; }

if [ "$(installed_version)" = "$WANT" ]; then
  phoenix_log "vllm: ${WANT} already installed"
  exit 0
fi

command -v nvidia-smi >/dev/null 2>&1 || phoenix_fail "vllm needs the nvidia feature (no nvidia-smi in the guest)"
phoenix_progress 10 "installing python"
apt_install python3 python3-venv python3-pip python3-dev build-essential
phoenix_progress 25 "creating ${VENV}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
phoenix_progress 40 "installing vllm==${WANT} (this takes a while)"
"$VENV/bin/pip" install -q "vllm==${WANT}"
phoenix_progress 95 "verifying"
GOT="$(installed_version)"
[ "$GOT" = "$WANT" ] || phoenix_fail "vllm import reports '${GOT:-nothing}', expected ${WANT}"
phoenix_progress 100 "vllm ${WANT} ready"
