import { PveException } from './errors.js';
import { FormatDie, HASH_FORMATS, formatSize, parseSize } from './formats.js';
import { parseBoolean } from './cli-args.js';
import type { FormatHash } from './schema.js';
import { checkObject, type Errors, type Value } from './schema-validate.js';

/** PVE::JSONSchema::parse_property_string, with the same die texts. */
export function parsePropertyString(format: FormatHash | string, data: string, path = ''): Record<string, string> {
  const fmt = typeof format === 'string' ? HASH_FORMATS[format] : format;
  if (!fmt) throw new FormatDie(`unknown format: ${String(format)}`);
  const res: Record<string, Value> = {};
  let defaultKey: string | undefined;
  for (const part of data.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/s.exec(part);
    if (kv) {
      let k = kv[1] ?? '';
      let v = kv[2] ?? '';
      if (res[k] !== undefined) throw new FormatDie(`duplicate key in comma-separated list property: ${k}`);
      let schema = fmt[k];
      if (schema?.alias) {
        const keyAlias = schema.keyAlias;
        if (keyAlias) {
          if (res[keyAlias] !== undefined) throw new FormatDie(`key alias '${keyAlias}' is already defined`);
          res[keyAlias] = k;
        }
        k = schema.alias;
        schema = fmt[k];
        if (res[k] !== undefined) throw new FormatDie(`key '${k}' is already defined (via alias)`);
      }
      if (!schema) throw new FormatDie(`invalid key in comma-separated list property: ${k}`);
      if (schema.type === 'boolean') v = parseBoolean(v) ?? v;
      res[k] = v;
    } else if (!part.includes('=')) {
      if (defaultKey) throw new FormatDie(`duplicate key in comma-separated list property: ${defaultKey}`);
      for (const [key, ps] of Object.entries(fmt)) {
        if (!ps.default_key) continue;
        defaultKey = key;
        if (!res[key]) {
          res[key] = ps.type === 'boolean' ? (parseBoolean(part) ?? part) : part;
          break;
        }
        throw new FormatDie(`duplicate key in comma-separated list property: ${defaultKey}`);
      }
      if (!defaultKey) throw new FormatDie('value without key, but schema does not define a default key');
    } else {
      throw new FormatDie('missing key in comma-separated list property');
    }
  }
  const errors: Errors = new Map();
  checkObject(path, fmt, res, 0, errors);
  if (errors.size) throw new PveException('format error\n', { errors: [...errors.entries()] });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res)) if (v !== undefined) out[k] = String(v);
  return out;
}

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
