import type { Params } from '../core/cli-args.js';
import type { GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { die } from '../core/errors.js';
import { guestModule, rootfsOf, type ExecOptions } from '../guest-common/guest-api.js';
import { checkLock, isRunning, loadConfig, lockConfig, runState, writeConfig } from '../guest-common/guest-store.js';
import { encodeText } from '../core/config-file.js';
import { perlJsonPretty } from '../core/perl-json.js';
import { isCloudinitOption } from './qemu-config.js';
import { regenerateCloudinit } from './qm-power.js';
import { tryParsePropertyString } from '../core/property-string.js';

/** qm guest cmd / guest exec (QEMU guest agent), qm cloudinit, qm terminal. */

function agentEnabled(conf: GuestConfig): boolean {
  const a = conf.props['agent'];
  if (a === undefined) return false;
  const parsed = tryParsePropertyString({ enabled: { type: 'boolean', default_key: 1 }, 'freeze-fs': { type: 'boolean', optional: 1 }, 'freeze-fs-on-backup': { alias: 'freeze-fs' }, 'guest-fsfreeze': { alias: 'freeze-fs' }, fstrim_cloned_disks: { type: 'boolean', optional: 1 }, type: { type: 'string', optional: 1 } }, a);
  return parsed?.['enabled'] === '1';
}

/** assert_agent_available. */
function assertAgent(ctx: Ctx, vmid: number, conf: GuestConfig): void {
  if (conf.props['agent'] === undefined) die('No QEMU guest agent configured');
  if (!isRunning(ctx.state, 'qemu', vmid)) die(`VM ${vmid} is not running`);
  const rs = runState(ctx.state, 'qemu', vmid);
  const up = agentEnabled(conf) && rs !== undefined && rs.qmpstatus !== 'paused' && Date.now() >= (rs.agentReadyAt ?? 0);
  if (!up) die('QEMU guest agent is not running');
}

function printAgentResult(ctx: Ctx, result: unknown): void {
  if (result === undefined || result === null) return;
  if (typeof result !== 'object') {
    const s = String(result).replace(/\n$/, '');
    if (!/^\s*$/.test(s)) ctx.out(`${s}\n`);
    return;
  }
  if (!Array.isArray(result) && !Object.keys(result).length) return;
  ctx.out(perlJsonPretty(result));
}

function ipconfigAddress(conf: GuestConfig): string | undefined {
  const ip = /(?:^|,)ip=([^,/]+)/.exec(conf.props['ipconfig0'] ?? '')?.[1];
  return ip && ip !== 'dhcp' ? ip : `10.0.0.${100 + (Number(conf.props['vmid'] ?? 0) % 100)}`;
}

export function qmGuestCmd(ctx: Ctx, p: Params): number {
  const vmid = Number(p['vmid']);
  const command = String(p['command']);
  const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
  assertAgent(ctx, vmid, conf);
  const name = conf.props['name'] ?? `vm${vmid}`;
  const mac = /=([0-9A-Fa-f:]{17})/.exec(conf.props['net0'] ?? '')?.[1]?.toLowerCase() ?? '00:00:00:00:00:00';
  let res: unknown;
  switch (command) {
    case 'get-host-name':
      res = { 'host-name': name };
      break;
    case 'get-osinfo':
      res = { id: 'ubuntu', 'kernel-release': '6.8.0-86-generic', 'kernel-version': '#87-Ubuntu SMP PREEMPT_DYNAMIC', machine: 'x86_64', name: 'Ubuntu', 'pretty-name': 'Ubuntu 24.04.3 LTS', version: '24.04.3 LTS (Noble Numbat)', 'version-id': '24.04' };
      break;
    case 'get-time':
      res = Date.now() * 1_000_000;
      break;
    case 'info':
      res = { version: '8.2.2', supported_commands: [] };
      break;
    case 'network-get-interfaces':
      res = [
        { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }] },
        { name: 'ens18', 'hardware-address': mac, 'ip-addresses': [{ 'ip-address': ipconfigAddress(conf) ?? '', 'ip-address-type': 'ipv4', prefix: 24 }] },
      ];
      break;
    default:
      res = {};
  }
  printAgentResult(ctx, res);
  return 0;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function qmGuestExec(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  const sync = p['synchronous'] !== '0';
  if (p['timeout'] !== undefined && !sync) {
    const { raiseParamExc } = await import('../core/errors.js');
    raiseParamExc([['synchronous', "needs to be set for 'timeout'"]]);
  }
  let input: Buffer | undefined;
  if (p['pass-stdin'] === '1') {
    input = await readStdin();
    if (input.length > 1024 * 1024) die("'input-data' (STDIN) is limited to 1 MiB, aborting");
  }
  const args = Array.isArray(p['extra-args']) ? p['extra-args'] : [];
  const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
  if (!args.length && input === undefined) die('command or input-data (or both) required');
  assertAgent(ctx, vmid, conf);
  const mod = await guestModule();
  const timeout = Number(p['timeout'] ?? 30);
  const opts: ExecOptions = {
    gpuVisible: Object.keys(conf.props).some((k) => /^hostpci\d+$/.test(k)),
    stateDir: ctx.state.dir,
  };
  if (input !== undefined) opts.stdin = input;
  if (sync && timeout > 0) opts.timeoutMs = timeout * 1000;
  const pid = 1000 + Math.floor(Math.random() * 30000);
  if (!sync) {
    void mod.execInGuest(rootfsOf(ctx.state.guestDir(vmid)), args, opts).catch(() => undefined);
    printAgentResult(ctx, { pid });
    return 0;
  }
  let r: Awaited<ReturnType<typeof mod.execInGuest>>;
  try {
    r = await mod.execInGuest(rootfsOf(ctx.state.guestDir(vmid)), args, opts);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'EMU_GUEST_EXEC_TIMEOUT') throw err;
    // The CLI stops polling exec-status and prints what guest-exec returned: the pid only.
    ctx.err('timeout reached, returning pid\n');
    printAgentResult(ctx, { pid });
    return 0;
  }
  const res: Record<string, unknown> = { exitcode: r.exitCode, exited: 1 };
  if (r.stdout.length) res['out-data'] = r.stdout.toString('utf8');
  if (r.stderr.length) res['err-data'] = r.stderr.toString('utf8');
  printAgentResult(ctx, res);
  return 0;
}

export async function qmCloudinitUpdate(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  await lockConfig(ctx, 'qemu', vmid, () => {
    const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
    checkLock('qemu', conf);
    if (regenerateCloudinit(ctx, conf)) writeConfig(ctx.state, 'qemu', vmid, conf);
  });
  return 0;
}

export function qmCloudinitPending(ctx: Ctx, p: Params): number {
  const vmid = Number(p['vmid']);
  const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
  const applied = conf.special['cloudinit'] ?? {};
  const keys = new Set([...Object.keys(conf.props).filter(isCloudinitOption), ...Object.keys(applied).filter(isCloudinitOption)]);
  for (const k of [...keys].sort()) {
    const cur = applied[k];
    let now = conf.props[k];
    const mask = (v: string | undefined): string | undefined => (k === 'cipassword' && v !== undefined ? '**********' : v);
    if (k === 'description' && now !== undefined) now = encodeText(now);
    if (cur !== undefined) {
      if (now === undefined) ctx.out(`del ${k}: ${mask(cur) ?? ''}\n`);
      else if (now !== cur) ctx.out(`cur ${k}: ${mask(cur) ?? ''}\nnew ${k}: ${mask(now) ?? ''}\n`);
      else ctx.out(`cur ${k}: ${mask(cur) ?? ''}\n`);
    } else if (now !== undefined) ctx.out(`new ${k}: ${mask(now) ?? ''}\n`);
  }
  return 0;
}

export function qmTerminal(ctx: Ctx, p: Params): number {
  const vmid = Number(p['vmid']);
  const escape = String(p['escape'] ?? '^O');
  const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
  let iface = typeof p['iface'] === 'string' ? p['iface'] : undefined;
  if (iface) {
    if (!conf.props[iface]) die(`serial interface '${iface}' is not configured`);
    if (conf.props[iface] !== 'socket') die(`wrong serial type on interface '${iface}'`);
  } else {
    iface = ['serial0', 'serial1', 'serial2', 'serial3'].find((s) => conf.props[s] === 'socket');
    if (!iface) die('unable to find a serial interface');
  }
  if (!isRunning(ctx.state, 'qemu', vmid)) die(`VM ${vmid} not running`);
  const m = /^\^([\x40-\x7a])$/.exec(escape);
  const code = m ? (m[1]?.charCodeAt(0) ?? 0) & 0x1f : 15;
  ctx.out(`starting serial terminal on interface ${iface}${code ? ` (press Ctrl+${String.fromCharCode(code + 0x40)} to exit)` : ''}\n`);
  return 0;
}
