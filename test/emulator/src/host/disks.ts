import { readJson, writeJson } from '../core/atomic-file.js';
import type { State } from '../core/state.js';

/**
 * The node's block devices, declared by tests (`NodeInit.disks`) and kept in `disks.json`. A disk
 * is known by its kernel path and its /dev/disk/by-id links; what lsblk/blkid would find on it
 * (partition table, file system, a ZFS label) is data. Without declared disks every /dev path is
 * accepted as an empty disk, as before disks were modelled.
 */

export interface DiskPartition {
  fstype?: string;
  /** For zfs_member: the pool name. */
  label?: string;
}

export interface InitDisk {
  /** Kernel path, e.g. /dev/nvme0n1. */
  device: string;
  /** Other names, e.g. /dev/disk/by-id/nvme-Samsung_SSD_990_... */
  links?: string[];
  sizeBytes?: number;
  pttype?: string;
  /** A file system (or zfs_member) on the whole disk. */
  fstype?: string;
  label?: string;
  partitions?: DiskPartition[];
  /** Pool state of a zfs_member label: a pool that is not imported is "exported". */
  poolState?: 'active' | 'exported';
}

export interface DisksState {
  disks: InitDisk[];
}

export function loadDisks(state: State): DisksState | undefined {
  return readJson<DisksState | undefined>(state.file('disks.json'), undefined);
}

export function saveDisks(state: State, d: DisksState): void {
  writeJson(state.file('disks.json'), d);
}

export function findDisk(d: DisksState, path: string): InitDisk | undefined {
  return d.disks.find((x) => x.device === path || (x.links ?? []).includes(path));
}

/** Kernel name of partition n: nvme0n1 → nvme0n1p1, sda → sda1. */
export function partitionPath(device: string, n: number): string {
  return /\d$/.test(device) ? `${device}p${n}` : `${device}${n}`;
}
