#!/usr/bin/env bash
# Phoenix feature: python_api_service. Python 3 with pip and venv for API services.
if pkg_installed python3 && pkg_installed python3-pip && pkg_installed python3-venv; then
  phoenix_log "python_api_service: already installed"
  exit 0
fi
phoenix_progress 20 "installing python3, pip and venv"
apt_install python3 python3-pip python3-venv
python3 --version || phoenix_fail "python3 is not usable"
phoenix_progress 100 "python ready"
