import { parseBoolean } from './cli-args.js';
import { PveException } from './errors.js';
import { CODE_FORMATS, FormatDie, HASH_FORMATS, splitList } from './formats.js';
import type { FormatHash, ObjectSchema, PropSchema } from './schema.js';

/**
 * A port of PVE::JSONSchema::check_prop / check_object / check_format. Errors are collected per
 * path in insertion order; several messages on one path are joined with a literal backslash-n,
 * just as Perl's `join('\n', ...)` does.
 */
export type Errors = Map<string, string>;

export type Value = string | number | boolean | string[] | Record<string, unknown> | undefined;

export function addError(errors: Errors, path: string, msg: string): void {
  const p = path || '_root';
  const prev = errors.get(p);
  errors.set(p, prev === undefined ? msg : `${prev}\\n${msg}`);
}

export function isNumber(v: string): boolean {
  return /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(v);
}

export function isInteger(v: string): boolean {
  return /^[+-]?\d+$/.test(v);
}

const patternCache = new Map<string, RegExp>();

/** Perl pattern, anchored as `m/^$pattern$/` (note: without grouping, exactly like Perl). */
export function perlPattern(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    const js = pattern.replace(/\(\?\^:/g, '(?:').replace(/\{,(\d+)\}/g, '{0,$1}');
    re = new RegExp(`^${js}$`);
    patternCache.set(pattern, re);
  }
  return re;
}

function checkType(path: string, type: string | undefined, value: Value, errors: Errors): boolean {
  if (!type || type === 'any') return true;
  if (type === 'array') {
    if (!Array.isArray(value)) {
      addError(errors, path, `type check ('${type}') failed`);
      return false;
    }
    return true;
  }
  if (type === 'object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      addError(errors, path, `type check ('${type}') failed`);
      return false;
    }
    return true;
  }
  if (typeof value === 'object') {
    addError(errors, path, `type check ('${type}') failed - got ${Array.isArray(value) ? 'ARRAY' : 'HASH'}`);
    return false;
  }
  const s = String(value);
  if (type === 'boolean') {
    if (s === '1' || s === '0') return true;
    addError(errors, path, `type check ('${type}') failed - got '${s}'`);
    return false;
  }
  if (type === 'integer' && !isInteger(s)) {
    addError(errors, path, `type check ('${type}') failed - got '${s}'`);
    return false;
  }
  if (type === 'number' && !isNumber(s)) {
    addError(errors, path, `type check ('${type}') failed - got '${s}'`);
    return false;
  }
  return true;
}

/** check_format: throws FormatDie or PveException with the text Perl would put into `$@`. */
export function checkFormat(format: string | FormatHash, value: string, path: string): unknown {
  if (typeof format === 'object') return parsePropertyString(format, value, path);
  if (format === 'regex') return undefined;
  const m = /^(.*?)(?:-(list|opt))?$/.exec(format);
  const name = m?.[1] ?? format;
  const kind = m?.[2] ?? 'none';
  const code = CODE_FORMATS[name];
  const hash = HASH_FORMATS[name];
  if (!code && !hash) return undefined; // unknown to the emulator: accept rather than reject valid input
  if (kind !== 'none' && !code) throw new FormatDie(`'-${kind}' format must have code ref, not hash`);
  if (kind === 'list') {
    for (const v of splitList(value)) code?.(v);
    return undefined;
  }
  if (kind === 'opt') {
    if (value) code?.(value);
    return undefined;
  }
  if (hash) return parsePropertyString(hash, value, path);
  code?.(value);
  return undefined;
}

function dollarAt(err: unknown): string {
  if (err instanceof FormatDie) return err.message;
  if (err instanceof PveException) return err.stringify();
  if (err instanceof Error) return `${err.message}\n`;
  return `${String(err)}\n`;
}

export function checkProp(value: Value, schema: PropSchema, path: string, errors: Errors): void {
  if (schema.alias) return;
  if (value === undefined) {
    if (schema.type === 'null') return;
    if (!schema.optional) addError(errors, path, 'property is missing and it is not optional');
    return;
  }
  if (!checkType(path, schema.type, value, errors)) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((el, i) => checkProp(el, schema.items as PropSchema, `${path}[${i}]`, errors));
    return;
  }
  if (typeof value === 'object') return;
  const s = String(value);
  if (schema.format) {
    try {
      checkFormat(schema.format, s, path);
    } catch (err) {
      addError(errors, path, `invalid format - ${dollarAt(err)}`);
      return;
    }
  }
  if (schema.pattern && !perlPattern(schema.pattern).test(s)) {
    addError(errors, path, 'value does not match the regex pattern');
    return;
  }
  if (schema.maxLength !== undefined && [...s].length > schema.maxLength) {
    addError(errors, path, `value may only be ${schema.maxLength} characters long`);
    return;
  }
  if (schema.minLength !== undefined && [...s].length < schema.minLength) {
    addError(errors, path, `value must be at least ${schema.minLength} characters long`);
    return;
  }
  if (isNumber(s)) {
    if (schema.maximum !== undefined && Number(s) > Number(schema.maximum)) {
      addError(errors, path, `value must have a maximum value of ${schema.maximum}`);
      return;
    }
    if (schema.minimum !== undefined && Number(s) < Number(schema.minimum)) {
      addError(errors, path, `value must have a minimum value of ${schema.minimum}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(s)) {
    addError(errors, path, `value '${s}' does not have a value in the enumeration '${schema.enum.join(', ')}'`);
  }
}

export function checkObject(
  path: string,
  schema: FormatHash,
  value: Record<string, Value>,
  additionalProperties: boolean | number | undefined,
  errors: Errors,
): void {
  const sub = (k: string): string => (path ? `${path}.${k}` : k);
  for (const k of Object.keys(value)) {
    const alias = schema[k]?.alias;
    if (!alias) continue;
    if (value[alias] !== undefined) {
      addError(errors, sub(k), `cannot set both '${k}' and its alias target '${alias}'`);
    } else {
      value[alias] = value[k];
      delete value[k];
    }
  }
  for (const [k, ps] of Object.entries(schema)) checkProp(value[k], ps, sub(k), errors);
  for (const k of Object.keys(value)) {
    const ps = schema[k];
    if (ps) {
      if (ps.requires && value[ps.requires] === undefined) {
        addError(errors, sub(ps.requires), `missing property required by '${sub(k)}'`);
      }
      continue;
    }
    if (additionalProperties !== undefined && !additionalProperties) {
      addError(errors, sub(k), 'property is not defined in schema and the schema does not allow additional properties');
    }
  }
}

/** JSONSchema::validate for a method's parameter hash: throws the 400 parameter exception. */
export function validateParams(params: Record<string, Value>, schema: ObjectSchema): void {
  const errors: Errors = new Map();
  checkObject('', schema.properties, params, schema.additionalProperties, errors);
  if (errors.size) {
    throw new PveException('Parameter verification failed.\n', { code: 400, errors: [...errors.entries()] });
  }
}

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
