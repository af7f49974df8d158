/**
 * Guest execution for the emulated `pct exec` / `pct push` / `pct pull` / `qm guest exec`: real
 * shell scripts run in a chroot of a per-guest rootfs whose tools (apt, dpkg, systemctl, docker,
 * curl, pip, nvidia-smi, …) are shims that keep their state in the guest's own files. See
 * rootfs.ts (what a rootfs holds), exec.ts (how commands run), lifecycle.ts (start/stop, GPU
 * devices, faults) and test/emulator/guest-shims (the tools).
 */
export { copyGuestRootfs, ensureGuestRootfs, rootfsCacheDir, setGuestAuthorizedKeys, setGuestHostname } from './rootfs.js';
export { execInGuest, GUEST_PATH, type ExecInGuestOptions, type ExecResult } from './exec.js';
export { pullFile, pushFile } from './transfer.js';
export { resolveGuestPath } from './paths.js';
export { guestGpuDeviceMinors } from './host-link.js';
export {
  guestInstalledPackages,
  guestUnitState,
  setGuestGpuDevices,
  setGuestMissingPackages,
  setGuestNetworkFaults,
  setVmGpus,
  startGuest,
  stopGuest,
  type NetworkFault,
  type NetworkFaultKind,
} from './lifecycle.js';
export { nvidiaRunfile } from './runfile.js';
export { GuestError, GuestExecTimeoutError, type GuestErrorCode } from './errors.js';
export { guestOsFor, type GuestOs } from './os-template.js';
