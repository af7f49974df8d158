import { abortText, commandSchema, getOptions, resolveCmd, usageListing, usageStr, type Params } from './cli-args.js';
import type { Ctx } from './ctx.js';
import { loadCliCommands, type CmdDef } from './data-files.js';
import { PveException, errorText } from './errors.js';
import { applyParamMapping } from './param-mapping.js';
import { validateParams } from './schema-validate.js';

/**
 * Runs one PVE CLI tool (pct, qm, pvesm, pveam) the way PVE::CLIHandler does: resolve the
 * command, parse and validate the options against the method schema, run the handler, and print
 * errors (400 errors followed by the usage line).
 */
export interface CommandInfo {
  /** "create", "guest exec", ... */
  path: string;
  cmdStr: string;
  def: CmdDef;
  usage: () => string;
}

export type Handler = (ctx: Ctx, params: Params, info: CommandInfo) => Promise<number | void> | number | void;

function isCommand(d: unknown): d is CmdDef & { method: string } {
  return typeof d === 'object' && d !== null && 'method' in d;
}

/** The unabbreviated subcommand of a call ("create", "guest cmd"), for fault matching and logs. */
export function commandPath(tool: string, argv: string[]): string {
  return resolveCmd(tool, argv).cmdStr.slice(tool.length + 1);
}

/**
 * Resolves a command line and validates its arguments exactly as the CLI does, without running
 * the command. Throws the PveException the real tool would print (usage line attached).
 */
export function validateCommand(tool: string, argv: string[], node: string, warn: (line: string) => void = () => {}): { info: CommandInfo; params: Params } {
  const r = resolveCmd(tool, argv);
  if (!isCommand(r.def)) throw new PveException(`unknown or incomplete command '${r.cmdStr}'\n`);
  const def = r.def;
  const info: CommandInfo = { path: r.cmdStr.slice(tool.length + 1), cmdStr: r.cmdStr, def, usage: () => usageStr(tool, r.cmdStr, def) };
  try {
    const schema = commandSchema(tool, def);
    const fixed: Record<string, string> = {};
    for (const f of def.fixed ?? []) {
      const v = def.fixedValues?.[f];
      fixed[f] = v !== undefined ? String(v) : f === 'node' ? node : '';
    }
    const params = getOptions(schema, r.args, def.args ?? [], fixed, warn);
    applyParamMapping(tool, info.path, params);
    validateParams(params as Record<string, string | string[]>, schema);
    return { info, params };
  } catch (err) {
    if (err instanceof PveException && err.isParamExc() && !err.usage) err.usage = info.usage();
    throw err;
  }
}

export async function runPveCli(ctx: Ctx, tool: string, argv: string[], handlers: Record<string, Handler>): Promise<number> {
  if (!argv.length) {
    ctx.stderr(abortText(tool, 'no command specified', false));
    return 255;
  }
  const r = resolveCmd(tool, argv);
  if (!isCommand(r.def)) {
    if (r.def) {
      ctx.stderr(
        `ERROR: incomplete command '${r.cmdStr}'\nUSAGE: ${tool} <COMMAND> [ARGS] [OPTIONS]\n\n${usageListing(tool, r.def as Record<string, CmdDef>, r.cmdStr, '')}`,
      );
    } else {
      ctx.stderr(abortText(tool, `unknown command '${r.cmdStr}'`, false));
    }
    return 255;
  }
  let info: CommandInfo | undefined;
  try {
    const v = validateCommand(tool, argv, ctx.node, (line) => ctx.stderr(line));
    info = v.info;
    if (info.path === 'help') return helpCommand(ctx, tool, v.params);
    const handler = handlers[info.path];
    if (!handler) {
      ctx.stderr(`command '${info.cmdStr}' is not implemented by the emulator\n`);
      return 255;
    }
    return (await handler(ctx, v.params, info)) ?? 0;
  } catch (err) {
    if (err instanceof PveException && err.isParamExc() && !err.usage && info) err.usage = info.usage();
    ctx.stderr(errorText(err));
    return err instanceof PveException ? err.exitCode : 255;
  }
}

function helpCommand(ctx: Ctx, tool: string, params: Params): number {
  const words = params['extra-args'];
  const table = loadCliCommands().tools[tool] ?? {};
  if (!Array.isArray(words) || !words.length) {
    ctx.out(`USAGE: ${tool} <COMMAND> [ARGS] [OPTIONS]\n\n${usageListing(tool, table, tool, '\n')}`);
    return 0;
  }
  const r = resolveCmd(tool, words);
  if (!r.def) {
    ctx.stderr(abortText(tool, `unknown command '${words[0] ?? ''}'`, false));
    return 255;
  }
  const text = isCommand(r.def) ? usageStr(tool, r.cmdStr, r.def) : usageListing(tool, r.def as Record<string, CmdDef>, r.cmdStr, '').replace(/^\s+/, '');
  ctx.out(`USAGE: ${text.replace(/\n$/, '')}\n`);
  return 0;
}
