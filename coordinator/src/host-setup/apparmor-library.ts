/**
 * AppArmor profiles Phoenix's containers name (lxc-phoenix-v1/v2, lxc-docker-nested, lxc-nesting-v1,
 * lxc-gpu-docker-storage), written for this project: each is LXC's container base policy plus the
 * mounts a nested container runtime (Docker) makes, the way PVE's lxc-container-default-with-nesting
 * extends the default. A host profile may bring its own text under the same name instead.
 */

/** Profiles every PVE node has loaded (lxc-pve), or that need no policy at all. */
export const STOCK_APPARMOR = new Set([
  'unconfined',
  'generated',
  'lxc-container-default',
  'lxc-container-default-cgns',
  'lxc-container-default-with-mounting',
  'lxc-container-default-with-nesting',
]);

function nestingProfile(name: string, extra: string[]): string {
  return [
    '#include <tunables/global>',
    '',
    `profile ${name} flags=(attach_disconnected,mediate_deleted) {`,
    '  #include <abstractions/lxc/container-base>',
    '',
    '  # a container runtime inside the container mounts its own proc, sysfs and cgroups',
    '  deny /dev/.lxc/proc/** rw,',
    '  deny /dev/.lxc/sys/** rw,',
    '  mount fstype=proc -> /var/cache/lxc/**,',
    '  mount fstype=sysfs -> /var/cache/lxc/**,',
    '  mount options=(rw,bind),',
    '  mount fstype=cgroup -> /sys/fs/cgroup/**,',
    '  mount fstype=cgroup2 -> /sys/fs/cgroup/**,',
    '  mount fstype=overlay,',
    '  mount fstype=nsfs,',
    ...extra.map((l) => `  ${l}`),
    '}',
    '',
  ].join('\n');
}

export const PHOENIX_APPARMOR: Readonly<Record<string, string>> = {
  'lxc-phoenix-v1': nestingProfile('lxc-phoenix-v1', []),
  'lxc-phoenix-v2': nestingProfile('lxc-phoenix-v2', ['mount fstype=fuse.*,', 'mount fstype=tmpfs,']),
  'lxc-nesting-v1': nestingProfile('lxc-nesting-v1', []),
  'lxc-docker-nested': nestingProfile('lxc-docker-nested', ['mount fstype=tmpfs,', 'mount fstype=mqueue,']),
  'lxc-gpu-docker-storage': nestingProfile('lxc-gpu-docker-storage', ['mount fstype=tmpfs,', '/dev/nvidia* rwm,', '/dev/dri/** rwm,']),
};
