import { loadApiParams, loadCliCommands, type CmdDef } from './data-files.js';
import { PveException, raise400 } from './errors.js';
import { expandIndexed, type ObjectSchema, type PropSchema } from './schema.js';

/**
 * The PVE CLI machinery (PVE::CLIHandler + PVE::JSONSchema::get_options): command resolution
 * with unique prefixes and aliases, Getopt::Long-style option parsing, positional arguments,
 * boolean parsing and the usage texts printed with errors.
 */

export function parseBoolean(v: string): '1' | '0' | undefined {
  if (/^(1|on|yes|true)$/i.test(v)) return '1';
  if (/^(0|off|no|false)$/i.test(v)) return '0';
  return undefined;
}

export interface Resolved {
  /** The command word as typed/expanded (argv[0] for unknown commands). */
  name: string;
  def: CmdDef | Record<string, CmdDef> | undefined;
  args: string[];
  /** "pct set", "qm guest cmd". */
  cmdStr: string;
}

function isCommand(d: unknown): d is CmdDef & { method: string } {
  return typeof d === 'object' && d !== null && 'method' in d;
}

function expand(table: Record<string, CmdDef>, word: string): string[] {
  if (Object.hasOwn(table, word)) return [word];
  return Object.keys(table).filter((k) => k.startsWith(word) && !table[k]?.alias);
}

export function resolveCmd(tool: string, argvIn: string[]): Resolved {
  const argv = [...argvIn];
  let table: Record<string, CmdDef> | undefined = loadCliCommands().tools[tool];
  let cmdStr = tool;
  for (let i = 0; i < argv.length && table; i++) {
    const word = argv[i] ?? '';
    const exp = expand(table, word);
    const cmd = exp.length === 1 ? (exp[0] ?? word) : word;
    cmdStr += ` ${cmd}`;
    const d: CmdDef | undefined = Object.hasOwn(table, cmd) ? table[cmd] : undefined;
    if (!d) {
      if (expand(table, cmd).length === 0) table = undefined;
      break;
    }
    if (isCommand(d)) return { name: cmd, def: d, args: argv.slice(i + 1), cmdStr };
    if (d.alias) {
      argv.splice(i, 1, ...d.alias.split(/ +/));
      return resolveCmd(tool, argv);
    }
    table = d.group;
  }
  return { name: argv[0] ?? '', def: table, args: argv.slice(1), cmdStr };
}

/** Parameter schema of a command, with indexed params expanded (net[n] -> net0..net31). */
export function commandSchema(tool: string, def: CmdDef): ObjectSchema {
  const method = def.method ?? '';
  const guest = tool === 'pct' ? 'lxc' : tool === 'qm' ? 'qemu' : undefined;
  const api = loadApiParams().endpoints[method];
  const raw = api ? api.parameters : loadCliCommands().schemas[method];
  if (!raw) throw new Error(`no schema for ${method}`);
  return expandIndexed(raw, guest);
}

const isListFormat = (p: PropSchema | undefined): boolean => typeof p?.format === 'string' && /-list/.test(p.format);

/** Short usage line (RESTHandler::getopt_usage with format 'short'), without trailing newline. */
export function usageStr(tool: string, cmdStr: string, def: CmdDef): string {
  const schema = commandSchema(tool, def);
  const props = schema.properties;
  const argParams = def.args ?? [];
  const fixed = new Set(def.fixed ?? []);
  let args = '';
  const argSet = new Set<string>();
  for (const p of argParams) {
    const pd = props[p];
    if (!pd) continue;
    argSet.add(p);
    if (args) args += ' ';
    args += isListFormat(pd) ? `{<${p}>}` : pd.optional ? `[<${p}>]` : `<${p}>`;
  }
  let hasOptions = false;
  const idxSeen = new Set<string>();
  for (const k of Object.keys(props).sort()) {
    const pd = props[k];
    if (!pd || argSet.has(k) || fixed.has(k)) continue;
    let base = k;
    const m = /^([a-z]+)(\d+)$/.exec(k);
    if (m) {
      const name = m[1] ?? k;
      if (idxSeen.has(name)) continue;
      if (m[2] === '0' && props[`${name}1`]) {
        idxSeen.add(name);
        base = `${name}[n]`;
      }
    }
    hasOptions = true;
    if (!pd.optional && !pd.alias) {
      if (args) args += ' ';
      args += `--${base} <${pd.type ?? 'string'}>`;
    }
  }
  return `${cmdStr} ${args}${hasOptions ? ' [OPTIONS]' : ''}`;
}

interface Generated {
  cls: string;
  name: string;
  text: string;
  group: boolean;
}

/** The listing printed by print_usage_short (used for unknown/incomplete commands and `help`). */
export function usageListing(tool: string, table: Record<string, CmdDef>, prefix: string, topSeparator: string): string {
  const entries = Object.entries(table).filter(([, d]) => !d.alias);
  const gen: Generated[] = entries.map(([name, d]) => {
    if (isCommand(d)) return { cls: d.class ?? '', name, text: `       ${usageStr(tool, `${prefix} ${name}`, d)}\n`, group: false };
    return { cls: '', name, text: usageListing(tool, d.group ?? {}, `${prefix} ${name}`, ''), group: true };
  });
  gen.sort((a, b) => {
    if (!a.group && !b.group) return a.cls < b.cls ? -1 : a.cls > b.cls ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    if (a.group !== b.group) return a.group ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  let out = '';
  let oldClass: string | undefined;
  for (const g of gen) {
    if (g.group) {
      let sub = g.text;
      if (sub) {
        if (!sub.includes(`${topSeparator}${topSeparator}`) || topSeparator === '') sub += topSeparator;
        out += sub;
      }
      continue;
    }
    if (oldClass !== undefined && oldClass !== g.cls) out += topSeparator;
    out += g.text;
    oldClass = g.cls;
  }
  return out;
}

/** Text of CLIHandler's $abort: "ERROR: <reason>", the USAGE header and the command listing. */
export function abortText(tool: string, reason: string, incomplete: boolean): string {
  const table = loadCliCommands().tools[tool] ?? {};
  return `ERROR: ${reason}\nUSAGE: ${tool} <COMMAND> [ARGS] [OPTIONS]\n\n${usageListing(tool, table, tool, incomplete ? '' : '\n')}`;
}

export type Params = Record<string, string | string[]>;

interface OptDef {
  name: string;
  optionalValue: boolean;
  multi: boolean;
}

/**
 * get_options: Getopt::Long with prefix `-`/`--`, unique-prefix and case-insensitive option
 * names, permuted positional arguments, then positional mapping and boolean parsing.
 * Getopt's own complaints go to `warn` (stderr) before the 400 error is raised.
 */
export function getOptions(
  schema: ObjectSchema,
  argv: string[],
  argParams: string[],
  fixed: Record<string, string>,
  warn: (line: string) => void,
): Params {
  const props = schema.properties;
  const defs: OptDef[] = [];
  for (const [name, pd] of Object.entries(props)) {
    if (fixed[name] !== undefined) continue;
    const optionalValue = pd.type === 'boolean';
    const multi = !optionalValue && (isListFormat(pd) || pd.type === 'array');
    defs.push({ name, optionalValue, multi });
  }
  const lookup = (word: string): OptDef | string => {
    const lw = word.toLowerCase();
    const exact = defs.find((d) => d.name.toLowerCase() === lw);
    if (exact) return exact;
    const hits = defs.filter((d) => d.name.toLowerCase().startsWith(lw));
    if (hits.length === 1 && hits[0]) return hits[0];
    if (hits.length > 1) return `Option ${word} is ambiguous (${hits.map((h) => h.name).sort().join(', ')})`;
    return `Unknown option: ${word}`;
  };
  const opts: Record<string, string | string[]> = {};
  const positional: string[] = [];
  let ok = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    let word = a.replace(/^--?/, '');
    let inline: string | undefined;
    const eq = word.indexOf('=');
    if (eq >= 0) {
      inline = word.slice(eq + 1);
      word = word.slice(0, eq);
    }
    const def = lookup(word);
    if (typeof def === 'string') {
      warn(`${def}\n`);
      ok = false;
      continue;
    }
    let value: string;
    if (inline !== undefined) value = inline;
    else if (def.optionalValue) {
      const next = argv[i + 1];
      if (next !== undefined && !(next.startsWith('-') && next.length > 1)) {
        value = next;
        i++;
      } else value = '';
    } else {
      const next = argv[i + 1];
      if (next === undefined) {
        warn(`Option ${def.name} requires an argument\n`);
        ok = false;
        continue;
      }
      value = next;
      i++;
    }
    if (def.multi) {
      const prev = opts[def.name];
      opts[def.name] = Array.isArray(prev) ? [...prev, value] : [value];
    } else opts[def.name] = value;
  }
  if (!ok) raise400('unable to parse option');

  if (positional.length) {
    let i = 0;
    for (; i < argParams.length; i++) {
      const name = argParams[i] ?? '';
      if (name === 'extra-args') {
        opts['extra-args'] = positional.splice(0);
        continue;
      }
      if (!positional.length) {
        for (; i < argParams.length; i++) {
          const p = argParams[i] ?? '';
          if (p === 'extra-args') continue;
          const ps = props[p];
          if (ps && !ps.optional) raise400('not enough arguments');
        }
        if (argParams[argParams.length - 1] === 'extra-args') opts['extra-args'] = [];
        break;
      }
      opts[name] = positional.shift() ?? '';
    }
    if (positional.length) raise400('too many arguments');
  } else {
    for (const name of argParams) {
      if (name === 'extra-args') {
        opts['extra-args'] = [];
        continue;
      }
      const ps = props[name];
      if (ps && !ps.optional) raise400('not enough arguments');
    }
  }

  for (const [p, value] of Object.entries(opts)) {
    const pd = props[p];
    if (!pd) continue;
    if (pd.type === 'boolean' && typeof value === 'string') {
      if (value === '') opts[p] = '1';
      else {
        const b = parseBoolean(value);
        if (b === undefined) raise400('unable to parse boolean option');
        opts[p] = b;
      }
    } else if (isListFormat(pd) && Array.isArray(value)) {
      opts[p] = value.join(',');
    } else if (Array.isArray(value) && pd.type !== 'array' && value.length === 1) {
      opts[p] = value[0] ?? '';
    }
  }
  for (const [k, v] of Object.entries(fixed)) opts[k] = v;
  return opts;
}

export function isParamException(err: unknown): err is PveException {
  return err instanceof PveException && err.isParamExc();
}
