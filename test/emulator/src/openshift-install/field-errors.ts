/**
 * k8s.io/apimachinery field.Error and ErrorList.ToAggregate, as the installer's validation
 * messages print them: `<path>: <type>: <detail>`, several joined as `[a, b]`.
 */
export type FieldError = string;

/** Go's %#v of a value in `Invalid value: ...` (strings quoted, numbers bare). */
function goValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[]string{${v.map((x) => JSON.stringify(String(x))).join(', ')}}`;
  return String(v);
}

export const invalid = (path: string, value: unknown, detail: string): FieldError => `${path}: Invalid value: ${goValue(value)}: ${detail}`;
export const required = (path: string, detail: string): FieldError => `${path}: Required value: ${detail}`;
export const forbidden = (path: string, detail: string): FieldError => `${path}: Forbidden: ${detail}`;
export const notSupported = (path: string, value: unknown, supported: string[]): FieldError =>
  `${path}: Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`;

/** ToAggregate().Error(): one message as is, several in brackets. */
export function aggregate(errs: FieldError[]): string | undefined {
  if (errs.length === 0) return undefined;
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}
