#!/bin/bash
# NVIDIA Accelerated Graphics Driver for Linux-x86_64 @VERSION@ (emulator edition of the .run
# installer). Installs the user-space driver only; building the kernel module inside a container
# fails as it does for real, so --no-kernel-module is required.
version="@VERSION@"
silent=0 no_kernel=0 uninstall=0
for a in "$@"; do
  case "$a" in
    -s|--silent|--ui=none) silent=1 ;;
    --no-kernel-module|--no-kernel-modules) no_kernel=1 ;;
    --uninstall) uninstall=1 ;;
    -v|--version) echo "NVIDIA-Linux-x86_64-$version.run: version $version"; exit 0 ;;
  esac
done
log=/var/log/nvidia-installer.log
mkdir -p /var/log
echo "nvidia-installer log file '$log'" > "$log"
echo "creation time: $(date)" >> "$log"
echo "installer version: $version" >> "$log"
say() { [ "$silent" = 1 ] || echo "$*"; echo "$*" >> "$log"; }
if [ "$uninstall" = 1 ]; then
  rm -f /usr/bin/nvidia-smi /usr/bin/nvidia-debugdump /usr/bin/nvidia-persistenced /usr/lib/x86_64-linux-gnu/libnvidia-ml.so* /usr/lib/x86_64-linux-gnu/libcuda.so* /var/lib/emu/nvidia/userspace-version
  say "Uninstallation of existing driver: NVIDIA Accelerated Graphics Driver for Linux-x86_64 ($version) is complete."
  exit 0
fi
say "Verifying archive integrity... OK"
say "Uncompressing NVIDIA Accelerated Graphics Driver for Linux-x86_64 $version..."
if [ "$no_kernel" = 0 ]; then
  msg="ERROR: Unable to find the kernel source tree for the currently running kernel.  Please make sure you have installed the kernel source files for your kernel and that they are properly configured; on Red Hat Linux systems, for example, be sure you have the 'kernel-source' or 'kernel-devel' RPM installed.  If you know the correct kernel source files are installed, you may specify the kernel source path with the '--kernel-source-path' command line option."
  echo "$msg" >&2; echo "$msg" >> "$log"
  echo "ERROR: Installation has failed.  Please see the file '$log' for details.  You may find suggestions on fixing installation problems in the README available on the Linux driver download page at www.nvidia.com." >&2
  exit 1
fi
mkdir -p /usr/lib/x86_64-linux-gnu /var/lib/emu/nvidia
cp /usr/lib/emu/bin/nvidia-smi /usr/bin/nvidia-smi
cp /usr/lib/emu/bin/tool /usr/bin/nvidia-debugdump
cp /usr/lib/emu/bin/daemon /usr/bin/nvidia-persistenced
chmod 755 /usr/bin/nvidia-smi /usr/bin/nvidia-debugdump /usr/bin/nvidia-persistenced
for lib in libnvidia-ml libcuda; do
  printf 'emulated %s %s\n' "$lib" "$version" > "/usr/lib/x86_64-linux-gnu/$lib.so.$version"
  ln -sf "$lib.so.$version" "/usr/lib/x86_64-linux-gnu/$lib.so.1"
done
echo "$version" > /var/lib/emu/nvidia/userspace-version
say "Installation of the NVIDIA Accelerated Graphics Driver for Linux-x86_64 (version: $version) is now complete."
exit 0
