/**
 * Containers: `pct`, an OS template (downloaded with `pveam` when missing) plus the raw `lxc.*`
 * lines, GPUs as device nodes, commands through `pct exec`, files through `pct push`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailedPreconditionError, NotFoundError, commonv1 } from '@phoenix/shared';
import type { GuestConfig } from '../drivers/types.js';
import { sig, type PipelineContext } from './context.js';
import { selectGpuDevices } from './gpu.js';
import type { GuestChanges, GuestKindDriver, GuestPlan } from './guest-kind.js';
import { diffLxc, lxcCreateParams, lxcRawLines, type GpuInput } from './lxc-config.js';
import type { EnsureOptions, GuestSpec } from './types.js';

async function plan(c: PipelineContext, spec: GuestSpec, _cfg: GuestConfig | undefined, o: EnsureOptions): Promise<GuestPlan> {
  const vmid = spec.vmid;
  // GPUs: device numbers from the node, never assumed.
  const indices = spec.gpu?.indices ?? [];
  const nv = await c.d.facts.nvidia();
  const gpus = indices.length > 0 ? await c.d.nvidia.queryGpus(sig(o)) : [];
  const gpu: GpuInput = { mode: c.gpuMode, devices: selectGpuDevices(indices, gpus, nv) };
  return {
    hasGpu: gpu.devices.length > 0,
    nodeDriverVersion: nv.driverVersion,
    diff(cfg): GuestChanges {
      const ch = diffLxc(spec, cfg, gpu);
      const setsKeys = Object.keys(ch.set).length > 0 || ch.delete.length > 0;
      return {
        set: ch.set,
        delete: ch.delete,
        resize: ch.resize,
        summary: ch.summary,
        configures: setsKeys || ch.raw !== undefined,
        needsRestart: ch.needsRestart,
        async apply(so) {
          if (setsKeys) await c.inflight.track([vmid], () => c.d.pct.set(vmid, ch.set, ch.delete, sig(so)));
          const raw = ch.raw;
          if (raw) await c.inflight.track([vmid], () => c.d.lxcConf.writeRaw(vmid, raw));
        },
      };
    },
    async create(ctx, eo) {
      const src = spec.source?.kind;
      if (src?.$case !== 'osTemplate') throw new FailedPreconditionError(`a container cannot be created from ${src?.$case ?? 'nothing'}`);
      const template = src.value;
      if (eo.dryRun) return `would create CT ${vmid} from ${template}`;
      await ensureOsTemplate(c, template, eo, (l) => ctx.log(l));
      ctx.progress(30, `pct create ${vmid} from ${template}`);
      await c.inflight.track([vmid], () => c.d.pct.create(vmid, template, lxcCreateParams(spec, gpu), { ...sig(eo), onLine: (l) => ctx.log(l) }));
      const raw = lxcRawLines(spec, gpu);
      if (raw.length > 0) await c.inflight.track([vmid], () => c.d.lxcConf.writeRaw(vmid, raw));
      return `CT ${vmid} created from ${template}`;
    },
    checkFeatures: () => undefined,
  };
}

/** OS template volume present on its storage, else downloaded with `pveam download`. */
async function ensureOsTemplate(c: PipelineContext, template: string, o: EnsureOptions, log: (l: string) => void): Promise<void> {
  if (template.startsWith('/')) return;
  const m = /^([^:]+):vztmpl\/(.+)$/.exec(template);
  if (!m || !m[1] || !m[2]) return;
  const [storage, file] = [m[1], m[2]];
  const present = await c.d.pveam.list(storage, sig(o));
  if (present.some((t) => t.volid === template)) return;
  log(`${file} is not on storage ${storage}: downloading it`);
  try {
    await c.d.pveam.download(storage, file, { ...sig(o), onLine: (l) => log(l) });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    // The appliance index may be stale: refresh it once and retry.
    log('template not in the appliance index: running pveam update');
    await c.d.pveam.update(sig(o));
    await c.d.pveam.download(storage, file, { ...sig(o), onLine: (l) => log(l) });
  }
}

export const lxcKind: GuestKindDriver = {
  kind: 'lxc',
  word: 'CT',
  type: commonv1.GuestType.LXC,
  noun: 'a container',
  apiPath: 'lxc',
  orphanLocks: ['create', 'destroyed', 'disk'],
  tool: (d) => d.pct,
  plan,
  exec: (c, vmid, command, r) =>
    c.inflight.track([vmid], () =>
      c.d.pct.exec(vmid, command, {
        mutating: r.mutating,
        ...(r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs } : {}),
        ...sig(r),
        ...(r.input !== undefined ? { input: r.input } : {}),
      }),
    ),
  async push(c, vmid, path, content, mode, o) {
    const dir = await mkdtemp(join(tmpdir(), 'phoenix-push-'));
    try {
      const local = join(dir, 'content');
      await writeFile(local, content, { mode: 0o600 });
      await c.inflight.track([vmid], () => c.d.pct.push(vmid, local, path, { perms: mode }, sig(o)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  waitReady: () => Promise.resolve(),
  configHasGpu: (cfg) =>
    Object.entries(cfg.values).some(([k, v]) => /^dev\d+$/.test(k) && v.includes('/dev/nvidia')) ||
    cfg.lxc.some((l) => l.key === 'lxc.mount.entry' && l.value.startsWith('/dev/nvidia')),
  nodeDriverVersion: async (c) => (await c.d.facts.nvidia()).driverVersion,
};
