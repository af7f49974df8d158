#!/usr/bin/env bash
# Phoenix feature: nvidia. Installs the NVIDIA user-space driver matching the node's kernel
# driver exactly (a mismatch makes NVML fail with "Driver/library version mismatch"), and
# optionally a CUDA toolkit. The device nodes come from the CT's GPU passthrough.
# Params (env): PHOENIX_DRIVER_VERSION (set by the agent from the node), PHOENIX_CUDA (e.g. 12-8),
#               PHOENIX_RUNFILE_URL (override of the driver download).
WANT="${PHOENIX_DRIVER_VERSION:?the node driver version is required}"
CUDA="${PHOENIX_CUDA:-}"

userspace_version() {
  local v
  v="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n1 | tr -d '[:space:]' || true)"
  if [ -z "$v" ]; then
    v="$(ls /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.* /usr/lib64/libnvidia-ml.so.* 2>/dev/null | sed -n 's/.*libnvidia-ml\.so\.\([0-9][0-9.]*[0-9]\)$/\1/p' | head -n1 || true)"
  fi
  echo "$v"
}
cuda_ok() { [ -z "$CUDA" ] || pkg_installed "cuda-toolkit-${CUDA}"; }

if [ "$(userspace_version)" = "$WANT" ] && cuda_ok; then
  phoenix_log "nvidia: user-space driver ${WANT} already installed"
  exit 0
fi

phoenix_progress 5 "waiting for the GPU device nodes"
retry 15 2 test -e /dev/nvidiactl || phoenix_fail "no /dev/nvidiactl in the guest: GPU passthrough is missing"

if [ "$(userspace_version)" != "$WANT" ]; then
  URL="${PHOENIX_RUNFILE_URL:-https://us.download.nvidia.com/XFree86/Linux-x86_64/${WANT}/NVIDIA-Linux-x86_64-${WANT}.run}"
  phoenix_progress 15 "installing prerequisites"
  apt_install ca-certificates curl kmod
  phoenix_progress 25 "downloading driver ${WANT}"
  RUNFILE="/tmp/NVIDIA-Linux-x86_64-${WANT}.run"
  retry 3 5 curl -fsSL -o "$RUNFILE" "$URL" || phoenix_fail "cannot download ${URL}"
  chmod +x "$RUNFILE"
  phoenix_progress 45 "installing user-space driver ${WANT} (no kernel module)"
  sh "$RUNFILE" --silent --no-kernel-module --no-x-check --no-nouveau-check --no-nvidia-modprobe --no-dkms --no-questions --ui=none
  rm -f "$RUNFILE"
fi

if ! cuda_ok; then
  ID="$(os_field ID)"; VER="$(os_field VERSION_ID)"
  DISTRO="${ID}${VER//./}"
  phoenix_progress 60 "adding the CUDA repository for ${DISTRO}"
  apt_install ca-certificates curl
  curl -fsSL -o /tmp/cuda-keyring.deb "https://developer.download.nvidia.com/compute/cuda/repos/${DISTRO}/x86_64/cuda-keyring_1.1-1_all.deb"
  dpkg -i /tmp/cuda-keyring.deb
  rm -f /tmp/cuda-keyring.deb
  apt_update
  phoenix_progress 75 "installing cuda-toolkit-${CUDA}"
  apt-get install -y -q --no-install-recommends "cuda-toolkit-${CUDA}"
fi

phoenix_progress 95 "verifying"
GOT="$(userspace_version)"
[ "$GOT" = "$WANT" ] || phoenix_fail "user-space driver is '${GOT:-none}', node driver is ${WANT}"
nvidia-smi -L || phoenix_fail "nvidia-smi cannot see a GPU"
phoenix_progress 100 "nvidia ${WANT} ready"
