import fs from 'node:fs';
import path from 'node:path';
import { APPLIANCES, findAppliance } from './aplinfo.js';
import type { Params } from '../core/cli-args.js';
import type { Ctx } from '../core/ctx.js';
import { die, raiseParamExc } from '../core/errors.js';
import { runPveCli, type Handler } from '../core/pve-cli.js';
import { listContent, storageCheckEnabled, storageConfig, storagePath, vdiskFree } from '../pvesm/storage.js';
import { runTask } from '../core/task.js';
import { DURATIONS } from '../core/timing.js';

/** The `pveam` command (PVE::CLI::pveam) with a built-in appliance catalogue. */

function available(ctx: Ctx, p: Params): number {
  const section = typeof p['section'] === 'string' ? p['section'] : undefined;
  const sections = [...new Set(APPLIANCES.map((a) => a.section))].sort();
  let out = '';
  for (const s of sections) {
    if (section && s !== section) continue;
    for (const a of APPLIANCES.filter((x) => x.section === s).sort((x, y) => (x.template < y.template ? -1 : 1))) {
      out += `${s.padEnd(15)} ${a.template.padEnd(60)} ${a.arch}\n`;
    }
  }
  ctx.out(out);
  return 0;
}

async function download(ctx: Ctx, p: Params): Promise<number> {
  const storage = String(p['storage']);
  const template = String(p['template']);
  const app = findAppliance(template);
  if (!app) raiseParamExc([['template', 'no such template']]);
  const def = storageCheckEnabled(ctx.state, storage);
  if (!def.content.includes('vztmpl')) die(`storage '${storage}' does not support templates`);
  const dir = path.join(storagePath(def) ?? die(`storage '${storage}' does not support templates`), 'template', 'cache');
  const dest = path.join(dir, template);
  // PVE's download command has no exit hook: a failed task still exits 0.
  return runTask(
    ctx,
    'download',
    template,
    async () => {
      ctx.out(`downloading ${app.location} to ${dest}\n`);
      if (fs.existsSync(dest)) {
        ctx.out('calculating checksum of existing file...');
        if (fs.statSync(dest).size === app.size) {
          ctx.out('OK, got correct file already, no need to download\n');
          return;
        }
        ctx.out('\n');
        die(`checksum mismatch: got '${'0'.repeat(128)}' != expect '${app.sha512sum}', aborting`);
      }
      const tmp = `${dest}.tmp_dwnl.${process.pid}`;
      const date = new Date().toISOString().replace('T', ' ').slice(0, 19);
      ctx.out(`--${date}--  ${app.location}\nResolving download.proxmox.com (download.proxmox.com)... 170.130.165.90, 2a0b:7140:5:100::90\n`);
      ctx.out(`Connecting to download.proxmox.com (download.proxmox.com)|170.130.165.90|:80... connected.\nHTTP request sent, awaiting response... 200 OK\n`);
      ctx.out(`Length: ${app.size} (${Math.round(app.size / 1024 / 1024)}M) [application/octet-stream]\nSaving to: '${tmp}'\n`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(tmp, '');
      try {
        await ctx.state.clock.sleep(DURATIONS.download / 2);
        await ctx.midpoint();
        await ctx.state.clock.sleep(DURATIONS.download / 2);
        fs.truncateSync(tmp, app.size);
        ctx.out(`\n${date} (12.1 MB/s) - '${tmp}' saved [${app.size}/${app.size}]\n\n`);
        ctx.out('calculating checksum...OK, checksum verified\n');
        fs.renameSync(tmp, dest);
      } finally {
        fs.rmSync(tmp, { force: true });
      }
      ctx.out(`download of '${app.location}' to '${dest}' finished\n`);
    },
    { upidExit: false },
  );
}

function list(ctx: Ctx, p: Params): number {
  const storage = String(p['storage']);
  const def = storageConfig(ctx.state, storage);
  if (!def.content.includes('vztmpl')) die('Storage does not support templates!');
  let out = `${'NAME'.padEnd(60)} ${'SIZE'.padEnd(6)}\n`;
  for (const e of listContent(ctx.state, storage).filter((x) => x.content === 'vztmpl')) {
    out += `${e.volid.padEnd(60)} ${(e.size / 1024 / 1024).toFixed(2)}MB\n`;
  }
  ctx.out(out);
  return 0;
}

async function remove(ctx: Ctx, p: Params): Promise<number> {
  const volid = String(p['template_path']);
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(vztmpl\/.+)$/i.exec(volid);
  if (!m) die(`unable to use volume ${volid} - content type needs to be 'vztmpl'`);
  storageConfig(ctx.state, m[1] ?? '');
  await vdiskFree(ctx.state, volid);
  return 0;
}

const handlers: Record<string, Handler> = {
  update: (ctx) => {
    ctx.out('update successful\n');
    return 0;
  },
  available,
  download,
  list,
  remove,
};

export function pveamMain(ctx: Ctx, argv: string[]): Promise<number> {
  return runPveCli(ctx, 'pveam', argv, handlers);
}
