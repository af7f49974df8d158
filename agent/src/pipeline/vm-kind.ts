/**
 * VMs: `qm`, a cloud image imported as the boot disk with a cloud-init drive (or blank disks and
 * an installer ISO on ide2), SSH keys through a key file, `qm cloudinit update` when cloud-init
 * input changed, commands and files through the QEMU guest agent (which a start waits for when
 * the VM has it enabled), GPUs as hostpciN devices (vm-gpu.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailedPreconditionError, commonv1 } from '@phoenix/shared';
import { parsePropertyString, parsePveBool } from '../drivers/parse-config.js';
import type { GuestConfig } from '../drivers/types.js';
import { sig, type PipelineContext } from './context.js';
import type { GuestChanges, GuestKindDriver, GuestPlan } from './guest-kind.js';
import { sleep, withRetries } from './retry.js';
import type { GuestSpec } from './types.js';
import { diffVm, installIsoCreateParams, sshKeysText, vmCreateParams } from './vm-config.js';
import { hostPciOf, resolveVmGpus } from './vm-gpu.js';

/** Keys a running VM applies without a reboot. */
const HOT_KEYS = /^(description|tags|onboot|startup|name|protection)$/;

/** Runs fn with a private temp file holding `text` (the qm CLI reads SSH keys from a file). */
async function withKeyFile<T>(text: string | undefined, fn: (path: string | undefined) => Promise<T>): Promise<T> {
  if (text === undefined) return fn(undefined);
  const dir = await mkdtemp(join(tmpdir(), 'phoenix-keys-'));
  try {
    const file = join(dir, 'authorized_keys');
    await writeFile(file, text, { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function agentEnabled(cfg: GuestConfig | undefined): boolean {
  return cfg ? parsePveBool(parsePropertyString(cfg.values['agent'] ?? '', 'enabled').get('enabled')) : false;
}

async function plan(c: PipelineContext, spec: GuestSpec, o: { signal?: AbortSignal }): Promise<GuestPlan> {
  const vmid = spec.vmid;
  // GPUs: PCI addresses from the node's inventory, refused when another guest holds one.
  const gpus = await resolveVmGpus(c, vmid, spec.gpu?.indices ?? [], o);
  return {
    hasGpu: gpus.length > 0,
    nodeDriverVersion: undefined,
    diff(cfg): GuestChanges {
      const ch = diffVm(spec, cfg, gpus);
      return {
        set: ch.set,
        delete: ch.delete,
        resize: ch.resize,
        summary: ch.summary,
        configures: Object.keys(ch.set).length > 0 || ch.delete.length > 0 || ch.sshKeys !== undefined,
        needsRestart: [...Object.keys(ch.set), ...ch.delete].some((k) => !HOT_KEYS.test(k)) || ch.sshKeys !== undefined,
        async apply(so) {
          await withKeyFile(ch.sshKeys, (keyFile) =>
            c.inflight.track([vmid], () => c.d.qm.set(vmid, { ...ch.set, ...(keyFile ? { sshkeys: keyFile } : {}) }, ch.delete, sig(so))),
          );
          if (ch.cloudinitChanged) await c.inflight.track([vmid], () => c.d.qm.cloudinitUpdate(vmid, sig(so)));
        },
      };
    },
    async create(ctx, eo) {
      const src = spec.source?.kind;
      const track = (params: Record<string, string | number | boolean>) =>
        c.inflight.track([vmid], () => c.d.qm.create(vmid, params, { ...sig(eo), onLine: (l) => ctx.log(l) }));
      if (src?.$case === 'installIso') {
        const iso = src.value;
        if (eo.dryRun) return `would create VM ${vmid} with blank disks and ${iso.volume} as its CD-ROM`;
        await track(installIsoCreateParams(spec, iso, gpus));
        return `VM ${vmid} created with blank disks, installing from ${iso.volume}`;
      }
      if (src?.$case !== 'cloudImage') throw new FailedPreconditionError(`a VM cannot be created from ${src?.$case ?? 'nothing'}`);
      const image = src.value;
      if (eo.dryRun) return `would create VM ${vmid} from cloud image ${image}`;
      const keys = spec.vm?.cloudInit?.sshKeys ?? [];
      await withKeyFile(keys.length > 0 ? sshKeysText(keys) : undefined, (keyFile) =>
        track({ ...vmCreateParams(spec, image, gpus), ...(keyFile ? { sshkeys: keyFile } : {}) }),
      );
      return `VM ${vmid} created from ${image}`;
    },
    checkFeatures(count, cfg) {
      if (count > 0 && !(spec.vm?.guestAgent ?? false) && !agentEnabled(cfg)) {
        throw new FailedPreconditionError(`features in VM ${vmid} run through the QEMU guest agent: set vm.guest_agent`);
      }
    },
  };
}

export const vmKind: GuestKindDriver = {
  kind: 'vm',
  word: 'VM',
  type: commonv1.GuestType.VM,
  noun: 'a VM',
  apiPath: 'qemu',
  orphanLocks: ['create', 'clone', 'destroyed'],
  tool: (d) => d.qm,
  plan: (c, spec, _cfg, o) => plan(c, spec, o),
  exec: (c, vmid, command, r) =>
    c.inflight.track([vmid], () =>
      c.d.qm.guestExec(vmid, command, {
        mutating: r.mutating,
        timeoutSeconds: Math.ceil((r.timeoutMs ?? 30_000) / 1000),
        ...(r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs + 30_000 } : {}),
        ...sig(r),
        ...(r.input !== undefined ? { input: r.input } : {}),
      }),
    ),
  async push(c, vmid, path, content, mode, o) {
    const b64 = Buffer.from(content).toString('base64');
    const res = await c.inflight.track([vmid], () =>
      c.d.qm.guestExec(vmid, ['sh', '-c', 'base64 -d > "$1" && chmod "$2" "$1"', 'phoenix-push', path, mode], { mutating: true, input: b64, ...sig(o) }),
    );
    if (res.exitCode !== 0) throw new FailedPreconditionError(`writing ${path} in VM ${vmid} failed: ${res.stderr.trim()}`);
  },
  async waitReady(c, spec, progress, o) {
    if (!(spec.vm?.guestAgent ?? false)) return;
    progress(60, 'waiting for the QEMU guest agent');
    await withRetries(c.timing.agentPingAttempts, 0, async () => {
      try {
        await c.d.qm.agentPing(spec.vmid, sig(o));
      } catch (err) {
        await sleep(c.timing.agentPingIntervalMs, o.signal);
        throw err;
      }
    }, sig(o));
  },
  configHasGpu: (cfg) => hostPciOf(cfg.values).size > 0,
  nodeDriverVersion: () => Promise.resolve(undefined),
};
