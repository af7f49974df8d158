/** JSON as Perl's JSON::XS prints it: canonical (sorted keys), optionally pretty (3-space indent, " : "). */
export function perlJson(value: unknown, pretty = false, indent = 0): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    if (!pretty) return `[${value.map((v) => perlJson(v)).join(',')}]`;
    const pad = ' '.repeat(indent + 3);
    return `[\n${value.map((v) => pad + perlJson(v, true, indent + 3)).join(',\n')}\n${' '.repeat(indent)}]`;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort();
    const obj = value as Record<string, unknown>;
    const present = keys.filter((k) => obj[k] !== undefined);
    if (!present.length) return '{}';
    if (!pretty) return `{${present.map((k) => `${JSON.stringify(k)}:${perlJson(obj[k])}`).join(',')}}`;
    const pad = ' '.repeat(indent + 3);
    return `{\n${present.map((k) => `${pad}${JSON.stringify(k)} : ${perlJson(obj[k], true, indent + 3)}`).join(',\n')}\n${' '.repeat(indent)}}`;
  }
  return JSON.stringify(value);
}

/** `to_json($x, {pretty => 1, canonical => 1})` ends with a newline; compact does not. */
export function perlJsonPretty(value: unknown): string {
  return `${perlJson(value, true)}\n`;
}
