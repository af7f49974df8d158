import crypto from 'node:crypto';
import type { Params } from '../core/cli-args.js';
import { emptyConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { PveException, die, errorText } from '../core/errors.js';
import { bestEffort, ensureRootfs, removeGuestDir } from '../guest-common/guest-api.js';
import { configExists, createAndLockConfig, destroyConfig, loadConfig, lockConfig, writeConfig } from '../guest-common/guest-store.js';
import { defaultBootOrder, isDriveKey, registerQemuFormats } from './qemu-config.js';
import { checkStorageAccess, createQemuDisks } from './qemu-disks.js';
import { normaliseVmOption, resolveCdromAlias } from './qm-set.js';
import { qmStartLocked } from './qm-power.js';
import { uriUnescape } from '../core/param-mapping.js';
import { validateSshPublicKeys } from '../core/ssh-keys.js';
import { vdiskFree } from '../pvesm/storage.js';
import { runTask } from '../core/task.js';

/** qm create (PVE::API2::Qemu create_vm). */

const NOT_CONFIG = new Set(['node', 'vmid', 'archive', 'bwlimit', 'force', 'pool', 'start', 'ha-managed', 'storage', 'unique', 'live-restore', 'import-working-storage']);

export const uuid = (): string => crypto.randomUUID();

export function metaInfo(): string {
  return `creation-qemu=10.1.2,ctime=${Math.floor(Date.now() / 1000)}`;
}

export async function qmCreate(ctx: Ctx, p: Params): Promise<number> {
  registerQemuFormats();
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  if (typeof p['archive'] === 'string') die('restore from backup is not supported by the emulator');
  if (typeof p['sshkeys'] === 'string') validateSshPublicKeys(uriUnescape(p['sshkeys']));
  const storage = typeof p['storage'] === 'string' ? p['storage'] : undefined;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (!NOT_CONFIG.has(k) && typeof v === 'string') params[k] = v;
  resolveCdromAlias(params);
  checkStorageAccess(ctx, params, storage);
  for (const [k, v] of Object.entries(params)) params[k] = normaliseVmOption(k, v);
  const emsg = `unable to create VM ${vmid} -`;
  try {
    await createAndLockConfig(ctx, 'qemu', vmid);
  } catch (err) {
    throw new PveException(`${emsg} ${errorText(err)}`);
  }
  return runTask(ctx, 'qmcreate', String(vmid), async () => {
    try {
      await lockConfig(
        ctx,
        'qemu',
        vmid,
        async () => {
          const conf = emptyConfig();
          for (const [k, v] of Object.entries(params)) {
            if (isDriveKey(k)) continue;
            if (k === 'description') conf.description = v;
            else conf.props[k] = v;
          }
          conf.props['meta'] = metaInfo();
          const vollist: string[] = [];
          try {
            await state.clock.sleep(0.5);
            await ctx.midpoint();
            const diskParams = Object.fromEntries(Object.entries(params).filter(([k]) => isDriveKey(k)));
            const { res, vollist: created } = await createQemuDisks(ctx, vmid, conf.props, diskParams, storage, { template: false });
            vollist.push(...created);
            Object.assign(conf.props, res);
            if (!conf.props['boot']) {
              const order = defaultBootOrder(conf.props);
              if (order) conf.props['boot'] = order;
            }
            conf.props['smbios1'] ??= `uuid=${uuid()}`;
            if (conf.props['vmgenid'] === undefined || conf.props['vmgenid'] === '1') conf.props['vmgenid'] = uuid();
            await state.clock.sleepFor('qmCreate');
            await bestEffort(state.dir, `VM ${vmid} rootfs`, () => ensureRootfs(state.guestDir(vmid), 'ubuntu'));
            writeConfig(state, 'qemu', vmid, conf);
          } catch (err) {
            for (const v of vollist) {
              try {
                await vdiskFree(state, v);
              } catch (e) {
                ctx.err(errorText(e));
              }
            }
            throw new PveException(`${emsg} ${errorText(err)}`);
          }
        },
        { timeoutSec: 1 },
      );
    } catch (err) {
      try {
        if (configExists(state, 'qemu', vmid) && loadConfig(ctx, state, 'qemu', vmid).props['lock'] === 'create') destroyConfig(state, 'qemu', vmid);
      } catch {
        // best effort, as on PVE
      }
      removeGuestDir(state.guestDir(vmid));
      throw err;
    }
    if (p['start'] === '1') {
      ctx.out('Execute autostart\n');
      try {
        await qmStartLocked(ctx, vmid, {});
      } catch (e) {
        ctx.err(errorText(e));
      }
    }
  });
}
