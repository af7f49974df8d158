#!/usr/bin/env bash
# Phoenix feature: base_setup. Common tools and the system locale.
# Params (env): PHOENIX_LOCALE (default en_US.UTF-8).
PACKAGES=(ca-certificates curl wget vim htop jq git rsync s-tui gnupg locales)
LOCALE="${PHOENIX_LOCALE:-en_US.UTF-8}"

all_installed() { local p; for p in "${PACKAGES[@]}"; do pkg_installed "$p" || return 1; done; }
locale_set() { grep -Eqs "^LANG=\"?${LOCALE//./\\.}\"?$" /etc/default/locale; }

if all_installed && locale_set; then
  phoenix_log "base_setup: already installed"
  exit 0
fi

phoenix_progress 10 "installing base packages"
apt_install "${PACKAGES[@]}"

phoenix_progress 70 "generating locale ${LOCALE}"
touch /etc/locale.gen
if grep -Eq "^# *${LOCALE//./\\.} " /etc/locale.gen; then
  sed -i -E "s/^# *(${LOCALE//./\\.} )/\\1/" /etc/locale.gen
elif ! grep -Eq "^${LOCALE//./\\.} " /etc/locale.gen; then
  echo "${LOCALE} ${LOCALE##*.}" >>/etc/locale.gen
fi
locale-gen
update-locale "LANG=${LOCALE}"

locale_set || phoenix_fail "locale ${LOCALE} is not the system default after update-locale"
phoenix_progress 100 "base_setup complete"
