import { parse } from 'yaml';

/**
 * The installer reads its YAML through sigs.k8s.io/yaml into Go structs: keys match the JSON
 * field names case-insensitively. These helpers read such loosely typed documents.
 */
export type Doc = Record<string, unknown>;

export function parseDoc(text: string): Doc {
  const v: unknown = parse(text);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : {};
}

export function field(doc: unknown, name: string): unknown {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(doc)) if (k.toLowerCase() === want) return v;
  return undefined;
}

export function obj(doc: unknown, name: string): Doc | undefined {
  const v = field(doc, name);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : undefined;
}

export function list(doc: unknown, name: string): unknown[] {
  const v = field(doc, name);
  return Array.isArray(v) ? v : [];
}

export function str(doc: unknown, name: string): string {
  const v = field(doc, name);
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

export function num(doc: unknown, name: string): number | undefined {
  const v = field(doc, name);
  return typeof v === 'number' ? v : undefined;
}
