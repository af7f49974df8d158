import type { GuestConfig } from './config-file.js';
import { encodeText } from './config-file.js';
import type { Ctx } from './ctx.js';
import { die } from './errors.js';
import { splitList } from './formats.js';

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
