import { HASH_FORMATS, formatSize, parseSize } from './formats.js';
import type { FormatHash } from './schema.js';
import { parsePropertyString } from './schema-validate.js';

/**
 * Property strings (`key=value,...`). Parsing validates nested values, so it lives with the
 * schema checks it recurses into (schema-validate.ts, as in PVE::JSONSchema).
 */
export { parsePropertyString };

/** Lenient parse for values read back from a config file: undefined when malformed. */
export function tryParsePropertyString(format: FormatHash | string, data: string): Record<string, string> | undefined {
  try {
    return parsePropertyString(format, data);
  } catch {
    return undefined;
  }
}

/** PVE::JSONSchema::print_property_string: default key first, then required keys, then the rest. */
export function printPropertyString(data: Record<string, string | number | undefined>, format: FormatHash | string): string {
  const fmt = typeof format === 'string' ? HASH_FORMATS[format] : format;
  if (!fmt) throw new Error(`not a valid format: ${String(format)}`);
  let defaultKey: string | undefined;
  const keyAliasProps: Record<string, string> = {};
  for (const [key, ps] of Object.entries(fmt)) {
    if (ps.default_key) defaultKey = key;
    if (ps.alias && ps.keyAlias) keyAliasProps[ps.keyAlias] = ps.alias;
  }
  const parts: string[] = [];
  const done = new Set<string>();
  const fmtValue = (key: string, value: string | number, f: unknown): string => {
    if (f === 'disk-size') {
      const bytes = parseSize(String(value));
      return bytes === undefined ? String(value) : formatSize(bytes);
    }
    const s = String(value);
    if (s.includes(',')) throw new Error(`illegal value with commas for ${key}`);
    return s;
  };
  const add = (key: string, isDefault: boolean): void => {
    if (done.has(key)) return;
    done.add(key);
    const value = data[key];
    if (value === undefined) return;
    let ps = fmt[key];
    const combine = keyAliasProps[key];
    if (combine !== undefined) {
      const cv = data[combine];
      if (cv !== undefined) {
        parts.push(`${fmtValue(key, value, ps?.format)}=${fmtValue(combine, cv, fmt[combine]?.format)}`);
        done.add(combine);
        return;
      }
    }
    if (ps?.alias) ps = fmt[ps.alias];
    if (!ps) throw new Error(`invalid key '${key}'`);
    const vs = fmtValue(key, value, ps.format);
    parts.push(isDefault ? vs : `${key}=${vs}`);
  };
  if (defaultKey !== undefined) add(defaultKey, true);
  const keys = Object.keys(data).sort();
  for (const k of keys) if (fmt[k] && !fmt[k]?.optional) add(k, false);
  for (const k of keys) add(k, false);
  return parts.join(',');
}
