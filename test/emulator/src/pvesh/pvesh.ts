import { getOptions, type Params } from '../core/cli-args.js';
import type { Ctx } from '../core/ctx.js';
import { otherEndpoints } from './data-files-other.js';
import { firewallRoutes } from './firewall.js';
import { PveException, die, errorText } from '../core/errors.js';
import { configView } from '../guest-common/guest-config-print.js';
import { loadConfig } from '../guest-common/guest-store.js';
import { allLxcStatus } from '../pct/lxc-status.js';
import { printApiResult } from './api-format.js';
import { storageIndex } from '../pvesm/pvesm.js';
import { allQemuStatus } from '../qm/qemu-status.js';
import { clusterResources, guestStatusCurrent, nextId, nodeNetwork, nodeStatus, taskStatus } from './pvesh-data.js';
import type { ObjectSchema, PropSchema } from '../core/schema.js';
import { validateParams } from '../core/schema-validate.js';
import { snapshotList } from '../guest-common/snapshots.js';
import type { GuestType } from '../core/state.js';
import { listContent, storageConfig, storageStatus } from '../pvesm/storage.js';

/** The `pvesh` command: the emulated API paths that Phoenix uses. */

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Route {
  method: Method;
  path: string;
  params?: Record<string, PropSchema>;
  handler: (ctx: Ctx, p: Record<string, string>) => unknown;
}

const VMID: PropSchema = { type: 'integer', format: 'pve-vmid', minimum: 100, maximum: 999999999 };
const NODE: PropSchema = { type: 'string', format: 'pve-node' };

function guestConfig(type: GuestType) {
  return (ctx: Ctx, p: Record<string, string>): unknown => {
    const conf = loadConfig(ctx, ctx.state, type, p['vmid'] ?? '');
    const opts: { snapshot?: string; current?: boolean } = { current: p['current'] === '1' };
    if (p['snapshot']) opts.snapshot = p['snapshot'];
    const view = configView(conf, opts);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(view.props)) out[k] = /^\d+$/.test(v) && !/^(smbios1|vmgenid|name|hostname)$/.test(k) ? Number(v) : v;
    if (view.description !== undefined) out['description'] = view.description;
    if (type === 'qemu' && out['cipassword'] !== undefined) out['cipassword'] = '**********';
    if (view.lxc.length) out['lxc'] = view.lxc;
    out['digest'] = '0000000000000000000000000000000000000000';
    return out;
  };
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/version', handler: (ctx) => ({ release: '9.1', repoid: '42db4a6cf33dac83', version: ctx.state.readNode().pveVersion.split('/')[1] ?? '9.1.1' }) },
  { method: 'GET', path: '/cluster/nextid', handler: (ctx, p) => nextId(ctx, p['vmid']) },
  { method: 'GET', path: '/cluster/resources', handler: (ctx, p) => clusterResources(ctx, p['type']) },
  { method: 'GET', path: '/cluster/ha/status/current', handler: (ctx) => [{ id: 'quorum', node: ctx.node, quorate: 1, status: 'OK', type: 'quorum' }] },
  {
    method: 'GET',
    path: '/nodes',
    handler: (ctx) => {
      const r = clusterResources(ctx, 'node')[0] ?? {};
      return [{ node: ctx.node, status: 'online', cpu: r['cpu'], maxcpu: r['maxcpu'], mem: r['mem'], maxmem: r['maxmem'], disk: r['disk'], maxdisk: r['maxdisk'], uptime: r['uptime'], level: '', id: `node/${ctx.node}`, type: 'node', ssl_fingerprint: '5A:1B:F0:22:6C:9E:3D:41:7B:88:0F:A4:E1:5C:2D:99:73:4B:C6:0A:18:EE:52:96:3F:D7:81:0C:6B:44:A9:E2' }];
    },
  },
  { method: 'GET', path: '/nodes/{node}/status', handler: (ctx) => nodeStatus(ctx) },
  {
    method: 'GET',
    path: '/nodes/{node}/network',
    params: { type: { type: 'string', enum: ['bridge', 'bond', 'eth', 'alias', 'vlan', 'OVSBridge', 'OVSBond', 'OVSPort', 'OVSIntPort', 'vnet', 'any_bridge', 'any_local_bridge', 'include_sdn'], optional: 1 } },
    handler: (ctx, p) => nodeNetwork(ctx, p['type']),
  },
  { method: 'GET', path: '/nodes/{node}/lxc', handler: (ctx) => allLxcStatus(ctx.state) },
  { method: 'GET', path: '/nodes/{node}/qemu', handler: (ctx, p) => allQemuStatus(ctx.state, p['full'] === '1') },
  { method: 'GET', path: '/nodes/{node}/lxc/{vmid}/status/current', handler: (ctx, p) => guestStatusCurrent(ctx, 'lxc', Number(p['vmid'])) },
  { method: 'GET', path: '/nodes/{node}/qemu/{vmid}/status/current', handler: (ctx, p) => guestStatusCurrent(ctx, 'qemu', Number(p['vmid'])) },
  { method: 'GET', path: '/nodes/{node}/lxc/{vmid}/config', handler: guestConfig('lxc') },
  { method: 'GET', path: '/nodes/{node}/qemu/{vmid}/config', handler: guestConfig('qemu') },
  { method: 'GET', path: '/nodes/{node}/lxc/{vmid}/snapshot', handler: (ctx, p) => snapshotList(ctx, 'lxc', Number(p['vmid'])) },
  { method: 'GET', path: '/nodes/{node}/qemu/{vmid}/snapshot', handler: (ctx, p) => snapshotList(ctx, 'qemu', Number(p['vmid'])) },
  {
    method: 'GET',
    path: '/nodes/{node}/storage',
    handler: (ctx, p) => {
      const f: { storage?: string; content?: string; enabled?: boolean } = {};
      if (p['storage']) f.storage = p['storage'];
      if (p['content']) f.content = p['content'];
      if (p['enabled'] === '1') f.enabled = true;
      return storageIndex(ctx, f);
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/storage/{storage}/status',
    params: { storage: { type: 'string', format: 'pve-storage-id' } },
    handler: (ctx, p) => {
      const id = p['storage'] ?? '';
      const def = storageConfig(ctx.state, id);
      const st = storageStatus(ctx.state, id);
      return { type: def.type, content: [...def.content].sort().join(','), shared: def.props['shared'] ? 1 : 0, active: st.active ? 1 : 0, enabled: st.enabled ? 1 : 0, total: st.total, used: st.used, avail: st.avail };
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/storage/{storage}/content',
    handler: (ctx, p) => {
      let rows = listContent(ctx.state, p['storage'] ?? '');
      if (p['content']) rows = rows.filter((r) => r.content === p['content']);
      if (p['vmid']) rows = rows.filter((r) => r.vmid === Number(p['vmid']));
      return rows;
    },
  },
  {
    // The storage.cfg entry (API2/Storage/Config.pm read): storage, type, content and the plugin's properties.
    method: 'GET',
    path: '/storage/{storage}',
    params: { storage: { type: 'string', format: 'pve-storage-id' } },
    handler: (ctx, p) => {
      const id = p['storage'] ?? '';
      const def = storageConfig(ctx.state, id);
      return { storage: id, type: def.type, content: [...def.content].sort().join(','), digest: '0f5e1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b', ...def.props };
    },
  },
  { method: 'GET', path: '/nodes/{node}/tasks/{upid}/status', handler: (ctx, p) => taskStatus(ctx, p['upid'] ?? '') },
  ...firewallRoutes('/cluster/firewall', { kind: 'cluster' }),
  ...firewallRoutes('/nodes/{node}/firewall', { kind: 'host' }),
  ...firewallRoutes('/nodes/{node}/lxc/{vmid}/firewall', { kind: 'guest', type: 'lxc' }),
  ...firewallRoutes('/nodes/{node}/qemu/{vmid}/firewall', { kind: 'guest', type: 'qemu' }),
];

const METHOD: Record<string, Method> = { get: 'GET', set: 'PUT', create: 'POST', delete: 'DELETE', ls: 'GET', usage: 'GET' };

const STD_OPTS: Record<string, PropSchema> = {
  'output-format': { type: 'string', enum: ['text', 'json', 'json-pretty', 'yaml'], optional: 1, default: 'text' },
  noborder: { type: 'boolean', optional: 1 },
  noheader: { type: 'boolean', optional: 1 },
  quiet: { type: 'boolean', optional: 1 },
  'human-readable': { type: 'boolean', optional: 1 },
};

function matchRoute(method: Method, path: string): { route: Route; uri: Record<string, string> } | undefined {
  const parts = path.split('/').filter(Boolean);
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const rp = route.path.split('/').filter(Boolean);
    if (rp.length !== parts.length) continue;
    const uri: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < rp.length; i++) {
      const seg = rp[i] ?? '';
      const val = decodeURIComponent(parts[i] ?? '');
      if (seg.startsWith('{')) uri[seg.slice(1, -1)] = val;
      else if (seg !== val) ok = false;
    }
    if (ok) return { route, uri };
  }
  return undefined;
}

function routeSchema(route: Route): ObjectSchema {
  const key = `${route.method} ${route.path}`;
  const ep = otherEndpoints()[key];
  const props: Record<string, PropSchema> = { ...(ep?.parameters.properties ?? {}) };
  for (const m of route.path.matchAll(/\{(\w+)\}/g)) {
    const name = m[1] ?? '';
    props[name] ??= name === 'vmid' ? VMID : name === 'node' ? NODE : { type: 'string' };
  }
  Object.assign(props, route.params ?? {});
  if (route.path === '/nodes/{node}/qemu') props['full'] ??= { type: 'boolean', optional: 1 };
  if (/\/config$/.test(route.path)) {
    props['current'] ??= { type: 'boolean', optional: 1 };
    props['snapshot'] ??= { type: 'string', format: 'pve-configid', maxLength: 40, optional: 1 };
  }
  if (/\/content$/.test(route.path)) {
    props['content'] ??= { type: 'string', optional: 1 };
    props['vmid'] ??= { ...VMID, optional: 1 };
  }
  return { additionalProperties: 0, properties: props };
}

const USAGE_LIST = `USAGE: pvesh <COMMAND> [ARGS] [OPTIONS]\n\n       pvesh create <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh delete <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh ls <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh set <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh usage <api_path> [OPTIONS]\n\n       pvesh help [<extra-args>] [OPTIONS]\n`;

export async function pveshMain(ctx: Ctx, argv: string[]): Promise<number> {
  const [cmd0, ...rest] = argv;
  const cmds = Object.keys(METHOD).concat('help');
  const hits = cmd0 === undefined ? [] : cmds.filter((c) => c.startsWith(cmd0));
  const cmd = cmd0 !== undefined && cmds.includes(cmd0) ? cmd0 : hits.length === 1 ? hits[0] : undefined;
  if (!cmd) {
    const reason = cmd0 === undefined ? 'no command specified' : `unknown command 'pvesh ${cmd0}'`;
    ctx.stderr(`ERROR: ${reason}\n${USAGE_LIST}`);
    return 255;
  }
  if (cmd === 'help') {
    ctx.out(USAGE_LIST);
    return 0;
  }
  const method = METHOD[cmd] ?? 'GET';
  const path = rest.find((a) => !a.startsWith('-'));
  const usage = `pvesh ${cmd} <api_path> [OPTIONS] [FORMAT_OPTIONS]`;
  let match: { route: Route; uri: Record<string, string> } | undefined;
  if (path !== undefined) {
    match = matchRoute(method, path);
    if (!match) {
      ctx.stderr(`No '${cmd}' handler defined for '${path}'\n`);
      return 1;
    }
  }
  try {
    const schema: ObjectSchema = match ? routeSchema(match.route) : { additionalProperties: 0, properties: {} };
    const uriKeys = Object.keys(match?.uri ?? {});
    const cliSchema: ObjectSchema = {
      additionalProperties: 0,
      properties: { api_path: { type: 'string' }, ...Object.fromEntries(Object.entries(schema.properties).filter(([k]) => !uriKeys.includes(k))), ...STD_OPTS },
    };
    const params: Params = getOptions(cliSchema, rest, ['api_path'], {}, (l) => ctx.stderr(l));
    if (!match) die('missing API path');
    const apiParams: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string' && !(k in STD_OPTS) && k !== 'api_path') apiParams[k] = v;
    Object.assign(apiParams, match.uri);
    const node = apiParams['node'];
    if (node !== undefined) {
      if (node === 'localhost') apiParams['node'] = ctx.node;
      else if (node !== ctx.node) die(`hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
    }
    validateParams(apiParams, schema);
    const data = await match.route.handler(ctx, apiParams);
    if (params['quiet'] === '1') return 0;
    const format = String(params['output-format'] ?? 'text');
    const ep = otherEndpoints()[`${match.route.method} ${match.route.path}`];
    const lang = `${process.env['LC_ALL'] ?? ''}${process.env['LANG'] ?? ''}`;
    const text = printApiResult(data, ep?.returns, format, {
      noborder: params['noborder'] === '1',
      noheader: params['noheader'] === '1',
      human: params['human-readable'] !== '0',
      utf8: /utf-?8/i.test(lang) || lang === '',
    });
    if (cmd !== 'get' && data === null) return 0;
    ctx.out(text);
    return 0;
  } catch (err) {
    if (err instanceof PveException && err.isParamExc() && !err.usage) err.usage = usage;
    ctx.stderr(errorText(err));
    return err instanceof PveException ? err.exitCode : 255;
  }
}
