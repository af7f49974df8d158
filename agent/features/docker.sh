#!/usr/bin/env bash
# Phoenix feature: docker. Docker Engine from Docker's apt repository; with a GPU in the guest also
# the NVIDIA container toolkit as a docker runtime (no-cgroups inside LXC).
# Params (env): none. PHOENIX_GUEST_TYPE (lxc|vm) is set by the agent.
has_gpu() { command -v nvidia-smi >/dev/null 2>&1; }
gpu_ready() { ! has_gpu || { pkg_installed nvidia-container-toolkit && grep -qs '"nvidia"' /etc/docker/daemon.json; }; }

if pkg_installed docker-ce && command -v docker >/dev/null 2>&1 && gpu_ready; then
  phoenix_log "docker: already installed"
  exit 0
fi

ID="$(os_field ID)"; CODENAME="$(os_field VERSION_CODENAME)"
[ "$ID" = debian ] || [ "$ID" = ubuntu ] || phoenix_fail "docker: unsupported distribution '${ID}'"

if ! pkg_installed docker-ce; then
  phoenix_progress 10 "adding Docker's apt repository (${ID} ${CODENAME})"
  apt_install ca-certificates curl gnupg
  install -m 0755 -d /etc/apt/keyrings
  retry 3 5 curl -fsSL "https://download.docker.com/linux/${ID}/gpg" -o /etc/apt/keyrings/docker.asc
  chmod a+r /etc/apt/keyrings/docker.asc
  echo "deb [arch=$(deb_arch) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/${ID} ${CODENAME} stable" \
    >/etc/apt/sources.list.d/docker.list
  apt_update
  phoenix_progress 40 "installing docker-ce"
  apt-get install -y -q docker-ce docker-ce-cli containerd.io docker-compose-plugin docker-buildx-plugin
fi

if has_gpu && ! gpu_ready; then
  phoenix_progress 70 "installing the NVIDIA container toolkit"
  retry 3 5 curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey -o /tmp/nvidia-container.key
  gpg --batch --yes --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg /tmp/nvidia-container.key
  rm -f /tmp/nvidia-container.key
  echo "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://nvidia.github.io/libnvidia-container/stable/deb/\$(ARCH) /" \
    >/etc/apt/sources.list.d/nvidia-container-toolkit.list
  apt_update
  apt-get install -y -q nvidia-container-toolkit
  nvidia-ctk runtime configure --runtime=docker
  if [ "${PHOENIX_GUEST_TYPE:-lxc}" = lxc ]; then
    # An unprivileged container cannot manage device cgroups; the CT config already grants them.
    # nvidia-ctk ≥ 1.14 edits the file itself; older toolkits only ship the commented default.
    if ! nvidia-ctk config --set nvidia-container-cli.no-cgroups=true --in-place 2>/dev/null; then
      CFG=/etc/nvidia-container-runtime/config.toml
      mkdir -p "$(dirname "$CFG")"
      if grep -Eq '^#?[[:space:]]*no-cgroups[[:space:]]*=' "$CFG" 2>/dev/null; then
        sed -i -E 's/^#?[[:space:]]*no-cgroups[[:space:]]*=.*/no-cgroups = true/' "$CFG"
      elif grep -q '^\[nvidia-container-cli\]' "$CFG" 2>/dev/null; then
        sed -i '/^\[nvidia-container-cli\]/a no-cgroups = true' "$CFG"
      else
        printf '[nvidia-container-cli]\nno-cgroups = true\n' >>"$CFG"
      fi
    fi
  fi
fi

phoenix_progress 90 "starting docker"
systemctl enable docker
systemctl restart docker
docker --version || phoenix_fail "docker is not usable"
phoenix_progress 100 "docker ready"
