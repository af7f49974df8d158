#!/usr/bin/env bash
# Phoenix feature: trusted_ca. Adds a root CA certificate to the system trust store.
# Params (env): PHOENIX_CA_CERT (PEM), PHOENIX_NAME (file name, default phoenix-root-ca).
# $(…) drops trailing newlines, so the file and the parameter compare equal however they end.
CERT="$(printf '%s' "${PHOENIX_CA_CERT:?a PEM certificate is required}")"
TARGET="/usr/local/share/ca-certificates/${PHOENIX_NAME:-phoenix-root-ca}.crt"

if [ -f "$TARGET" ] && [ "$(cat "$TARGET")" = "$CERT" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  phoenix_log "trusted_ca: ${TARGET} already trusted"
  exit 0
fi
phoenix_progress 20 "installing ca-certificates"
apt_install ca-certificates
mkdir -p "$(dirname "$TARGET")"
printf '%s\n' "$CERT" >"$TARGET"
chmod 0644 "$TARGET"
phoenix_progress 60 "updating the trust store"
update-ca-certificates
phoenix_progress 100 "root CA trusted"
