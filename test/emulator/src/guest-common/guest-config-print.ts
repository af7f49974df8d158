import type { Params } from '../core/cli-args.js';
import type { GuestConfig } from '../core/config-file.js';
import { encodeText } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { die } from '../core/errors.js';
import { splitList } from '../core/formats.js';
import { loadConfig } from './guest-store.js';

/** The `vm_config` API + the CLI printer of `pct config` / `qm config`. */
export interface ConfigView {
  props: Record<string, string>;
  description?: string;
  lxc: Array<[string, string]>;
}

export function configView(conf: GuestConfig, opts: { snapshot?: string; current?: boolean }): ConfigView {
  let section: { props: Record<string, string>; description?: string; lxc: Array<[string, string]> } = conf;
  if (opts.snapshot) {
    const snap = conf.snapshots[opts.snapshot];
    if (!snap) die(`snapshot '${opts.snapshot}' does not exist`);
    section = snap;
  }
  const props = { ...section.props };
  let description = section.description;
  if (!opts.current && !opts.snapshot) {
    for (const [k, v] of Object.entries(conf.pending.props)) {
      if (k === 'delete') continue;
      if (k === 'description') description = v;
      else props[k] = v;
    }
    for (const k of splitList(conf.pending.props['delete'] ?? '')) {
      const key = k.replace(/^!/, '');
      if (key === 'description') description = undefined;
      delete props[key];
    }
  }
  const view: ConfigView = { props, lxc: section.lxc };
  if (description !== undefined) view.description = description;
  return view;
}

export function printConfig(ctx: Ctx, view: ConfigView, mask: string[] = []): void {
  const all: Record<string, string> = { ...view.props };
  if (view.description !== undefined) all['description'] = view.description;
  let out = '';
  for (const k of Object.keys(all).sort()) {
    if (k === 'digest') continue;
    let v = all[k] ?? '';
    if (k === 'description') v = encodeText(v);
    if (mask.includes(k)) v = '**********';
    out += `${k}: ${v}\n`;
  }
  for (const [k, v] of view.lxc) out += `${k}: ${v}\n`;
  ctx.out(out);
}

/** `pct pending` / `qm pending` (GuestHelpers::format_pending). */
export function guestPending(ctx: Ctx, p: Params, type: 'lxc' | 'qemu' = 'lxc'): number {
  const vmid = Number(p['vmid']);
  const conf = loadConfig(ctx, ctx.state, type, vmid);
  const keys = new Set([...Object.keys(conf.props), ...Object.keys(conf.pending.props)]);
  const deleted = new Set(splitList(conf.pending.props['delete'] ?? ''));
  for (const k of [...keys].sort()) {
    if (k === 'delete' || k === 'digest') continue;
    const cur = conf.props[k];
    const pend = conf.pending.props[k];
    if (type === 'qemu' && k === 'cipassword') {
      ctx.out(`${conf.pending.props[k] !== undefined ? 'new' : 'cur'} ${k}: **********\n`);
      continue;
    }
    if (deleted.has(k)) ctx.out(`del ${k}: ${cur ?? ''}\n`);
    else if (pend !== undefined && cur !== undefined) ctx.out(`cur ${k}: ${cur}\nnew ${k}: ${pend}\n`);
    else if (pend !== undefined) ctx.out(`new ${k}: ${pend}\n`);
    else ctx.out(`cur ${k}: ${cur ?? ''}\n`);
  }
  return 0;
}
