#!/usr/bin/env bash
# Phoenix application: vllm. Serves one model with the vLLM OpenAI-compatible server as the
# systemd unit vllm.service. Arguments: <model> [vllm serve flags...], e.g.
#   Qwen/Qwen2.5-7B-Instruct-AWQ --served-model-name qwen --port 8000 --tensor-parallel-size 1
# Needs the vllm feature.
[ "$#" -ge 1 ] || phoenix_fail "usage: vllm.sh <model> [flags...]"
VENV=/opt/vllm
UNIT=/etc/systemd/system/vllm.service
quoted=""
for a in "$@"; do quoted+=" $(printf '%q' "$a")"; done
WANT_UNIT="[Unit]
Description=vLLM model server (Phoenix)
After=network-online.target

[Service]
User=root
WorkingDirectory=${VENV}
Environment=VLLM_USE_FLASHINFER_SAMPLER=1
ExecStart=${VENV}/bin/vllm serve${quoted} --host 0.0.0.0
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target"

if [ "$(cat "$UNIT" 2>/dev/null)" = "$WANT_UNIT" ] && systemctl is-active vllm >/dev/null 2>&1; then
  phoenix_log "vllm app: unit unchanged and active"
  exit 0
fi
[ -x "$VENV/bin/vllm" ] || [ -x "$VENV/bin/python" ] || phoenix_fail "the vllm feature is not installed (${VENV} missing)"
phoenix_progress 30 "writing ${UNIT}"
printf '%s\n' "$WANT_UNIT" >"$UNIT"
systemctl daemon-reload
systemctl enable vllm
phoenix_progress 60 "starting vllm"
systemctl restart vllm
retry 5 2 systemctl is-active vllm >/dev/null || phoenix_fail "vllm.service is not active"
phoenix_progress 100 "vllm serving $1"
