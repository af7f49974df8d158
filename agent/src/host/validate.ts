/** Checks a HostSpec before anything is read or changed: every name, path and option is one the tools take as it is. */
import { InvalidArgumentError, type agentv1 } from '@phoenix/shared';
import { FW_MARKER } from './firewall.js';

const POOL_RE = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
const DISK_RE = /^\/dev\/[A-Za-z0-9._:/+-]+$/;
const DATASET_RE = /^[A-Za-z][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)+$/;
const PROP_RE = /^[a-z][a-z0-9_:.]*$/;
const VALUE_RE = /^[A-Za-z0-9_.:,=/+-]+$/;
const STORAGE_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const CONTENT = new Set(['images', 'rootdir', 'iso', 'vztmpl', 'backup', 'snippets', 'import']);
const PROFILE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const USER_RE = /^[a-z_][a-z0-9_-]*$/;
const CLIENT_RE = /^[A-Za-z0-9.*?:/-]+$/;
const EXPORT_OPT_RE = /^[a-z_]+(=[A-Za-z0-9._-]+)?$/;
const FW_ADDRESS_RE = /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?(,\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?)*$/;
const FW_PORT_RE = /^\d{1,5}(:\d{1,5})?(,\d{1,5}(:\d{1,5})?)*$/;
const FW_POLICY = ['ACCEPT', 'DROP', 'REJECT'];
/** The options host setup sets at each level, and the values each takes. */
const FW_OPTIONS: Readonly<Record<'cluster' | 'host', Readonly<Record<string, readonly string[]>>>> = {
  cluster: { enable: ['0', '1'], policy_in: FW_POLICY, policy_out: FW_POLICY },
  host: { enable: ['0', '1'] },
};
/** Fewest disks each layout takes (zpool: a raidzN vdev needs N+1 devices). */
export const MIN_DISKS: Readonly<Record<string, number>> = { stripe: 1, mirror: 2, raidz1: 2, raidz2: 3, raidz3: 4 };

export function validateHostSpec(spec: agentv1.HostSpec): void {
  spec.pools.forEach((p, i) => {
    const f = `spec.pools.${i}`;
    check(POOL_RE.test(p.name) && !/^(mirror|raidz|draid|spare|log|cache)/.test(p.name), `${f}.name`, p.name, 'not a pool name');
    const layout = p.layout === '' ? 'stripe' : p.layout;
    const min = MIN_DISKS[layout];
    check(min !== undefined, `${f}.layout`, p.layout, 'one of stripe, mirror, raidz1, raidz2, raidz3');
    check(p.disks.length >= (min ?? 1), `${f}.disks`, p.disks, `a ${layout} pool needs at least ${min ?? 1} disks`);
    p.disks.forEach((d, j) => check(DISK_RE.test(d) && !d.includes('..'), `${f}.disks.${j}`, d, 'disks are /dev paths'));
    check(new Set(p.disks).size === p.disks.length, `${f}.disks`, p.disks, 'a disk is named twice');
    for (const [k, v] of [...Object.entries(p.poolProperties), ...Object.entries(p.fsProperties)]) checkProp(`${f}.properties.${k}`, k, v);
  });
  spec.datasets.forEach((d, i) => {
    check(DATASET_RE.test(d.name), `spec.datasets.${i}.name`, d.name, 'a dataset is pool/name');
    for (const [k, v] of Object.entries(d.properties)) checkProp(`spec.datasets.${i}.properties.${k}`, k, v);
  });
  spec.storages.forEach((s, i) => {
    const f = `spec.storages.${i}`;
    check(STORAGE_RE.test(s.id), `${f}.id`, s.id, 'not a storage id');
    check(['zfspool', 'dir', 'nfs'].includes(s.type), `${f}.type`, s.type, 'one of zfspool, dir, nfs');
    s.content.forEach((c) => check(CONTENT.has(c), `${f}.content`, c, 'not a storage content type'));
    for (const [k, v] of Object.entries(s.options)) {
      check(/^[a-z][a-z0-9_-]*$/.test(k), `${f}.options`, k, 'not a storage option name');
      check(VALUE_RE.test(v), `${f}.options.${k}`, v, 'not a storage option value');
    }
  });
  spec.apparmorProfiles.forEach((p, i) => {
    check(PROFILE_RE.test(p.name), `spec.apparmor_profiles.${i}.name`, p.name, 'not a profile name');
    const declared = new RegExp(`^\\s*profile\\s+${p.name.replace(/[.]/g, '\\.')}[\\s{]`, 'm').test(p.content);
    check(declared, `spec.apparmor_profiles.${i}.content`, p.name, `the policy must declare "profile ${p.name}"`);
  });
  spec.subIds.forEach((r, i) => {
    check(r.kind === 'u' || r.kind === 'g', `spec.sub_ids.${i}.kind`, r.kind, '"u" or "g"');
    check(USER_RE.test(r.user), `spec.sub_ids.${i}.user`, r.user, 'not a user name');
    check(r.count > 0, `spec.sub_ids.${i}.count`, r.count, 'a range holds at least one id');
  });
  spec.directories.forEach((d, i) => {
    check(isCleanPath(d.path) && d.path !== '/', `spec.directories.${i}.path`, d.path, 'an absolute path without . or .. parts');
    check(d.mode === '' || /^0?[0-7]{3,4}$/.test(d.mode), `spec.directories.${i}.mode`, d.mode, 'octal, e.g. "0755"');
  });
  spec.nfsExports.forEach((e, i) => {
    check(isCleanPath(e.path), `spec.nfs_exports.${i}.path`, e.path, 'an absolute path without . or .. parts');
    check(e.clients.length > 0, `spec.nfs_exports.${i}.clients`, e.clients, 'an export needs a client');
    e.clients.forEach((c) => check(CLIENT_RE.test(c), `spec.nfs_exports.${i}.clients`, c, 'not a host, address or network'));
    e.options.forEach((o) => check(EXPORT_OPT_RE.test(o), `spec.nfs_exports.${i}.options`, o, 'not an export option'));
  });
  for (const level of ['cluster', 'host'] as const) {
    const want = spec.firewall?.[level];
    if (want) validateFirewallLevel(`spec.firewall.${level}`, level, want);
  }
}

function validateFirewallLevel(f: string, level: 'cluster' | 'host', want: agentv1.FirewallLevelSpec): void {
  for (const [k, v] of Object.entries(want.options)) {
    const values = FW_OPTIONS[level][k];
    check(values !== undefined, `${f}.options`, k, `one of ${Object.keys(FW_OPTIONS[level]).join(', ')}`);
    check(values?.includes(v) === true, `${f}.options.${k}`, v, `one of ${values?.join(', ') ?? ''}`);
  }
  want.rules.forEach((r, i) => {
    const g = `${f}.rules.${i}`;
    check(r.type === 'in' || r.type === 'out', `${g}.type`, r.type, '"in" or "out"');
    check(FW_POLICY.includes(r.action), `${g}.action`, r.action, 'one of ACCEPT, DROP, REJECT');
    check(r.source === '' || FW_ADDRESS_RE.test(r.source), `${g}.source`, r.source, 'IPv4 addresses or networks');
    check(r.dest === '' || FW_ADDRESS_RE.test(r.dest), `${g}.dest`, r.dest, 'IPv4 addresses or networks');
    check(['', 'tcp', 'udp', 'icmp'].includes(r.proto), `${g}.proto`, r.proto, 'tcp, udp or icmp');
    check(r.dport === '' || (FW_PORT_RE.test(r.dport) && (r.proto === 'tcp' || r.proto === 'udp')), `${g}.dport`, r.dport, 'ports like 22 or 80,443 or 8000:8010, with proto tcp or udp');
    // The comment ends the rule's line in the .fw file.
    check(r.comment.startsWith(FW_MARKER) && r.comment.length <= 512 && !/\p{Cc}/u.test(r.comment) && r.comment.trim() === r.comment, `${g}.comment`, r.comment, `one line starting with "${FW_MARKER}"`);
  });
}

function checkProp(field: string, key: string, value: string): void {
  check(PROP_RE.test(key), field, key, 'not a ZFS property name');
  check(VALUE_RE.test(value), field, value, 'not a ZFS property value');
}

function isCleanPath(p: string): boolean {
  return p.startsWith('/') && !/[\n\0]/.test(p) && !p.split('/').some((s) => s === '.' || s === '..') && !/\s/.test(p);
}

function check(ok: boolean, field: string, value: unknown, reason: string): void {
  if (!ok) throw new InvalidArgumentError(field, value, reason);
}
