/** PVE JSON schema (the Perl flavour used by PVE::JSONSchema and the API viewer data). */
export interface PropSchema {
  type?: string;
  format?: string | FormatHash;
  pattern?: string;
  enum?: string[];
  minimum?: number | string;
  maximum?: number | string;
  maxLength?: number;
  minLength?: number;
  optional?: number | boolean;
  default?: unknown;
  default_key?: number | boolean;
  alias?: string;
  keyAlias?: string;
  requires?: string;
  format_description?: string;
  typetext?: string;
  items?: PropSchema;
  [other: string]: unknown;
}

export type FormatHash = Record<string, PropSchema>;

export interface ObjectSchema {
  additionalProperties?: number | boolean;
  properties: Record<string, PropSchema>;
}

/** How many instances PVE defines for indexed parameters such as `net[n]` (n = 0 .. max-1). */
export const INDEXED_MAX: Record<'lxc' | 'qemu', Record<string, number>> = {
  lxc: { net: 32, mp: 256, unused: 256, dev: 256 },
  qemu: {
    net: 32,
    ipconfig: 32,
    scsi: 31,
    ide: 4,
    sata: 6,
    virtio: 16,
    unused: 256,
    hostpci: 16,
    usb: 14,
    serial: 4,
    parallel: 3,
    numa: 8,
    virtiofs: 10,
  },
};

/** Expands `net[n]` keys into net0, net1, ... as the real schema defines them. */
export function expandIndexed(schema: ObjectSchema, guest: 'lxc' | 'qemu' | undefined): ObjectSchema {
  const out: Record<string, PropSchema> = {};
  for (const [key, prop] of Object.entries(schema.properties)) {
    const m = /^([a-z]+)\[n\]$/.exec(key);
    if (!m) {
      out[key] = prop;
      continue;
    }
    const base = m[1] ?? key;
    const max = (guest && INDEXED_MAX[guest][base]) ?? 32;
    for (let i = 0; i < max; i++) out[`${base}${i}`] = prop;
  }
  const res: ObjectSchema = { properties: out };
  if (schema.additionalProperties !== undefined) res.additionalProperties = schema.additionalProperties;
  return res;
}

export function isOptional(p: PropSchema): boolean {
  return Boolean(p.optional);
}
