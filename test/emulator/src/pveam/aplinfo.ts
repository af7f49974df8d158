import crypto from 'node:crypto';

/**
 * A small built-in appliance catalogue (pveam available/download), modelled on
 * http://download.proxmox.com/images/aplinfo-pve-9.dat.
 */
export interface Appliance {
  section: 'system' | 'mail' | 'turnkeylinux';
  template: string;
  arch: string;
  /** Compressed size in bytes (what a download writes). */
  size: number;
  /** Unpacked size in bytes (what a new container's rootfs holds). */
  unpacked: number;
  location: string;
  sha512sum: string;
}

const MiB = 1024 * 1024;

function app(section: Appliance['section'], template: string, sizeMiB: number, unpackedMiB: number): Appliance {
  const dir = section === 'system' ? 'system' : section;
  return {
    section,
    template,
    arch: /_amd64\./.test(template) ? 'amd64' : /_arm64\./.test(template) ? 'arm64' : 'unknown',
    size: Math.round(sizeMiB * MiB),
    unpacked: Math.round(unpackedMiB * MiB),
    location: `http://download.proxmox.com/images/${dir}/${template}`,
    sha512sum: crypto.createHash('sha512').update(template).digest('hex'),
  };
}

export const APPLIANCES: Appliance[] = [
  app('system', 'almalinux-9-default_20240911_amd64.tar.xz', 97.7, 420),
  app('system', 'alpine-3.22-default_20250617_amd64.tar.xz', 2.9, 9),
  app('system', 'archlinux-base_20240911-1_amd64.tar.zst', 188.3, 620),
  app('system', 'centos-9-stream-default_20240828_amd64.tar.xz', 100.2, 430),
  app('system', 'debian-12-standard_12.12-1_amd64.tar.zst', 123.4, 505),
  app('system', 'debian-12-standard_12.7-1_amd64.tar.zst', 120.3, 498),
  app('system', 'debian-13-standard_13.1-2_amd64.tar.zst', 129.8, 530),
  app('system', 'fedora-42-default_20250428_amd64.tar.xz', 95.1, 410),
  app('system', 'opensuse-15.6-default_20240910_amd64.tar.xz', 46.9, 210),
  app('system', 'rockylinux-9-default_20240912_amd64.tar.xz', 101.5, 440),
  app('system', 'ubuntu-22.04-standard_22.04-1_amd64.tar.zst', 123.8, 520),
  app('system', 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst', 141.1, 560),
  app('system', 'ubuntu-25.04-standard_25.04-1.1_amd64.tar.zst', 147.6, 590),
  app('mail', 'proxmox-mail-gateway-8.2-standard_8.2-1_amd64.tar.zst', 552.6, 1900),
  app('mail', 'proxmox-mail-gateway-9.0-standard_9.0-1_amd64.tar.zst', 567.1, 1950),
  app('turnkeylinux', 'debian-12-turnkey-nextcloud_18.1-1_amd64.tar.gz', 399.2, 1400),
  app('turnkeylinux', 'debian-12-turnkey-wordpress_18.1-1_amd64.tar.gz', 287.4, 1000),
  app('turnkeylinux', 'debian-12-turnkey-gitea_18.0-1_amd64.tar.gz', 236.5, 850),
];

export function findAppliance(template: string): Appliance | undefined {
  return APPLIANCES.find((a) => a.template === template);
}

/** Unpacked size of a template file, from the catalogue or estimated from its size. */
export function unpackedSize(template: string, fileSize: number): number {
  const name = template.replace(/^.*[/:]/, '');
  return findAppliance(name)?.unpacked ?? Math.max(fileSize * 4, 64 * MiB);
}
