#!/bin/sh
# This script installs Ollama on Linux (emulator edition of https://ollama.com/install.sh).
set -eu

status() { echo ">>> $*" >&2; }
error() { echo "ERROR $*"; exit 1; }
warning() { echo "WARNING: $*"; }

[ "$(uname -s)" = "Linux" ] || error 'This script is intended to run on Linux only.'
[ "$(id -u)" -eq 0 ] || error 'This script requires superuser permissions.'

status "Installing ollama to /usr/local"
mkdir -p /usr/local/bin /usr/local/lib/ollama
cp /usr/lib/emu/bin/ollama /usr/local/bin/ollama
chmod 755 /usr/local/bin/ollama

if ! id ollama >/dev/null 2>&1; then
    status "Creating ollama user..."
    useradd -r -s /bin/false -U -m -d /usr/share/ollama ollama
fi
status "Adding current user to ollama group..."
usermod -a -G ollama root

status "Creating ollama systemd service..."
cat <<SERVICE >/etc/systemd/system/ollama.service
[Unit]
Description=Ollama Service
After=network-online.target

[Service]
ExecStart=/usr/local/bin/ollama serve
User=ollama
Group=ollama
Restart=always
RestartSec=3
Environment="PATH=$PATH"

[Install]
WantedBy=default.target
SERVICE
mkdir -p /etc/systemd/system/default.target.wants
status "Enabling and starting ollama service..."
systemctl daemon-reload
systemctl enable ollama
systemctl restart ollama

status "The Ollama API is now available at 127.0.0.1:11434."
status "Install complete. Run \"ollama\" from the command line."
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    warning "No NVIDIA/AMD GPU detected. Ollama will run in CPU-only mode."
else
    status "NVIDIA GPU installed."
fi
