/**
 * Validators for every identifier that can reach a command line. Each mirrors the rule of the tool
 * that will receive it (PVE's JSON-schema formats, OpenZFS naming, Linux interface names), so a value
 * that passes here is one the tool accepts and can never be read as an option or a path escape.
 */
import { z } from 'zod';
import { InvalidArgumentError, formatValue } from './errors.js';

/** PVE `pve-vmid`: 100..999999999. */
export const vmidSchema = z
  .number()
  .int()
  .min(100, 'VMID must be at least 100')
  .max(999_999_999, 'VMID must be at most 999999999');

/** Accepts the string CTIDs of older Phoenix configs ("950") as well as numbers. */
export const vmidLooseSchema = z
  .union([z.number(), z.string().regex(/^[1-9][0-9]{2,8}$/, 'not a VMID')])
  .transform((v) => Number(v))
  .pipe(vmidSchema);

const DNS_LABEL = '[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?';

/** Cluster node name: one DNS label (PVE node names are hostnames without domain). */
export const nodeNameSchema = z
  .string()
  .max(63)
  .regex(new RegExp(`^${DNS_LABEL}$`), 'node name must be a DNS label (letters, digits, hyphens)');

/** PVE `dns-name` for guest hostnames: dot-separated labels, at most 255 characters. */
export const hostnameSchema = z
  .string()
  .max(255)
  .regex(new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`), 'hostname must be a DNS name');

/** PVE `pve-storage-id`. */
export const storageIdSchema = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i, 'storage id must start with a letter (letters, digits, - _ .)');

/** PVE `pve-snapshot-name` (pve-configid): letter first, at least 2 characters, at most 40. */
export const snapshotNameSchema = z
  .string()
  .max(40, 'snapshot name may only be 40 characters long')
  .regex(/^[a-z][a-z0-9_-]+$/i, 'snapshot name must start with a letter (letters, digits, _ -)')
  .refine((s) => !['current', 'vzdump', 'pending'].includes(s.toLowerCase()), 'snapshot name is reserved');

/** OpenZFS dataset name: pool/child/... with the characters zfs allows, no leading '-' or '/'. */
export const datasetSchema = z
  .string()
  .max(255)
  .regex(/^[a-zA-Z][a-zA-Z0-9_.:-]*(\/[a-zA-Z0-9_.:-]+)*$/, 'dataset must be pool/name with letters, digits, _ . : -')
  .refine((s) => !s.split('/').some((p) => p === '.' || p === '..'), 'dataset must not contain . or .. components');

/** Pool name: letter first; reserved names rejected as zpool does. */
export const poolNameSchema = z
  .string()
  .max(255)
  .regex(/^[a-zA-Z][a-zA-Z0-9_.:-]*$/, 'pool name must start with a letter')
  .refine((s) => !/^(mirror|raidz|draid|spare|log)/.test(s), 'pool name is reserved');

/** Linux bridge name (IFNAMSIZ 16 incl. NUL). */
export const bridgeSchema = z
  .string()
  .max(15)
  .regex(/^[a-zA-Z][a-zA-Z0-9_.-]*$/, 'bridge must be an interface name (letter first, at most 15 characters)');

/** Unicast MAC address, colon-separated. */
export const macSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'MAC must be six hex pairs separated by colons')
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'MAC must be unicast (first octet even)');

const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${IPV4_OCTET}(\\.${IPV4_OCTET}){3}`;
export const ipv4Schema = z.string().regex(new RegExp(`^${IPV4}$`), 'must be an IPv4 address');
/** IPv4 CIDR such as 10.0.0.5/24. */
export const cidrSchema = z
  .string()
  .regex(new RegExp(`^${IPV4}/([0-9]|[12][0-9]|3[0-2])$`), 'must be an IPv4 address with prefix, e.g. 10.0.0.5/24');

/** A guest user name / Linux account. */
export const usernameSchema = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user name');

/** A feature name from the feature library. */
export const featureNameSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'feature names are lower-case words');

/** Parses `value` with `schema`, throwing InvalidArgumentError naming `field` and the value. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? formatPath([field, ...issue.path]) : field;
  throw new InvalidArgumentError(path, value, issue?.message ?? 'invalid value', { cause: result.error });
}

/**
 * A field path as users read it: `containers.3.net0`, with keys that are not plain names quoted
 * (`labels["a b"]`) so that a hostile key cannot make the path ambiguous.
 */
export function formatPath(segments: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of segments) {
    const key = typeof seg === 'symbol' ? seg.toString() : String(seg);
    if (key === '') continue;
    if (out === '' && typeof seg === 'string' && /^[^\s"[\]]+$/.test(key)) out = key;
    else if (/^[A-Za-z0-9_$-]+$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** Turns every issue of a zod error into one line `path: message (got value)`. */
export function describeZodError(error: z.ZodError, input: unknown, root = ''): string[] {
  return error.issues.map((issue) => {
    const path = formatPath([root, ...issue.path]) || '(root)';
    const got = valueAt(input, issue.path);
    return got === undefined ? `${path}: ${issue.message}` : `${path}: ${issue.message} (got ${formatValue(got)})`;
  });
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
