/**
 * Builds argument arrays from validated values. Every identifier goes through the shared zod
 * validators first; free-text values are checked so they can never be read as an option.
 */
import { z } from 'zod';
import {
  InvalidArgumentError,
  datasetSchema,
  parseOrThrow,
  snapshotNameSchema,
  storageIdSchema,
  vmidSchema,
} from '@phoenix/shared';
import type { PveParams } from './types.js';

/** API parameter names: `cores`, `net0`, `ssh-public-keys`, `import-from` … */
const paramKeySchema = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'parameter names are lower-case words');

/** Guest paths for push/exec: absolute, no NUL or newline, no `..` component. */
export const guestPathSchema = z
  .string()
  .max(4096)
  .regex(/^\/[^\0\n]*$/, 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');

/** Host paths handed to a tool (push source, import source). */
export const hostPathSchema = guestPathSchema;

/** pvesh API paths. */
const apiPathSchema = z
  .string()
  .max(1024)
  .regex(/^\/[A-Za-z0-9_\-./:@]*$/, 'must be an API path such as /nodes/pve/lxc')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');

/** Disk keys of resize: rootfs, mp0, scsi0, virtio1 … */
const diskKeySchema = z.string().regex(/^(rootfs|mp\d+|scsi\d+|virtio\d+|sata\d+|ide\d+|efidisk0|tpmstate0)$/, 'not a disk key');
const sizeSchema = z.string().regex(/^\+?\d+(\.\d+)?[KMGT]?$/, 'size such as 16G or +2G');
/** PVE template names and volume ids: storage:content/file. */
const volidSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9\-_.]*:[^\s,;\0]+$/, 'must be a volume id storage:path');
const templateNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'must be a template file name');

export const vmid = (v: number, field = 'vmid'): string => String(parseOrThrow(vmidSchema, v, field));
export const snapname = (v: string, field = 'snapshot'): string => parseOrThrow(snapshotNameSchema, v, field);
export const storageId = (v: string, field = 'storage'): string => parseOrThrow(storageIdSchema, v, field);
export const dataset = (v: string, field = 'dataset'): string => parseOrThrow(datasetSchema, v, field);
export const guestPath = (v: string, field = 'path'): string => parseOrThrow(guestPathSchema, v, field);
export const hostPath = (v: string, field = 'path'): string => parseOrThrow(hostPathSchema, v, field);
export const apiPath = (v: string, field = 'path'): string => parseOrThrow(apiPathSchema, v, field);
export const diskKey = (v: string, field = 'disk'): string => parseOrThrow(diskKeySchema, v, field);
export const diskSize = (v: string, field = 'size'): string => parseOrThrow(sizeSchema, v, field);
export const volid = (v: string, field = 'volume'): string => parseOrThrow(volidSchema, v, field);
export const templateName = (v: string, field = 'template'): string => parseOrThrow(templateNameSchema, v, field);

/** A value for `--key value`: never empty-looking as an option, never with NUL. */
function paramValue(key: string, value: string | number | boolean): string {
  const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  if (text.includes('\0')) throw new InvalidArgumentError(key, text, 'must not contain NUL');
  if (text.startsWith('-') && !/^-\d+(\.\d+)?$/.test(text)) {
    throw new InvalidArgumentError(key, text, 'must not start with "-" (it would be read as an option)');
  }
  return text;
}

/** `--key value` pairs in key order (stable argv, easy to compare in tests). */
export function paramArgs(params: PveParams): string[] {
  const out: string[] = [];
  for (const key of Object.keys(params).sort()) {
    parseOrThrow(paramKeySchema, key, 'parameter');
    const v = params[key];
    if (v === undefined) continue;
    out.push(`--${key}`, paramValue(key, v));
  }
  return out;
}

/** `--delete a,b` for removed keys. */
export function deleteArgs(keys: readonly string[]): string[] {
  if (keys.length === 0) return [];
  for (const k of keys) parseOrThrow(paramKeySchema, k, 'delete');
  return ['--delete', [...keys].sort().join(',')];
}
