import { isPublicKeyLine } from '../core/ssh-keys.js';
import { aggregate, forbidden, invalid, notSupported, required, type FieldError } from './field-errors.js';
import { inAnyCidr, isIp } from './ip.js';
import { field, list, num, obj, str, type Doc } from './yaml-fields.js';

/** The parts of install-config.yaml (types.InstallConfig, defaults applied) the agent installer checks. */
export interface InstallConfig {
  apiVersion: string;
  name: string;
  baseDomain: string;
  networkType: string;
  machineNetworks: string[];
  platform: string;
  apiVips: string[];
  ingressVips: string[];
  controlPlaneReplicas: number;
  computeReplicas: number;
  pullSecret: string;
  sshKey: string;
}

const SUPPORTED_PLATFORMS = ['baremetal', 'vsphere', 'none', 'external'];
const KNOWN_PLATFORMS = ['aws', 'azure', 'baremetal', 'external', 'gcp', 'ibmcloud', 'none', 'nutanix', 'openstack', 'ovirt', 'powervs', 'vsphere'];
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function vips(p: Doc | undefined, plural: string, singular: string): string[] {
  const many = list(p, plural).map(String);
  if (many.length > 0) return many;
  const one = str(p, singular);
  return one ? [one] : [];
}

/** Reads the document with the installer's defaults (OVNKubernetes, 10.0.0.0/16, 3 + 3 replicas). */
export function readInstallConfig(doc: Doc): InstallConfig {
  const networking = obj(doc, 'networking');
  const platforms = obj(doc, 'platform') ?? {};
  const platform = Object.keys(platforms)[0]?.toLowerCase() ?? '';
  const p = obj(platforms, platform);
  const machine = list(networking, 'machineNetwork').map((m) => str(m, 'cidr'));
  const cpReplicas = num(obj(doc, 'controlPlane'), 'replicas');
  const compute = list(doc, 'compute');
  return {
    apiVersion: str(doc, 'apiVersion'),
    name: str(obj(doc, 'metadata'), 'name'),
    baseDomain: str(doc, 'baseDomain'),
    networkType: str(networking, 'networkType') || 'OVNKubernetes',
    machineNetworks: machine.length > 0 ? machine : ['10.0.0.0/16'],
    platform,
    apiVips: vips(p, 'apiVIPs', 'apiVIP'),
    ingressVips: vips(p, 'ingressVIPs', 'ingressVIP'),
    controlPlaneReplicas: cpReplicas ?? 3,
    computeReplicas: compute.length === 0 ? 3 : compute.reduce<number>((n, c) => n + (num(c, 'replicas') ?? 3), 0),
    pullSecret: str(doc, 'pullSecret'),
    sshKey: str(doc, 'sshKey').trim(),
  };
}

/** encoding/json's message for text that is not a JSON document. */
function jsonError(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch {
    const t = text.trimStart();
    const first = t[0];
    if (first === undefined) return 'unexpected end of JSON input';
    const literal = { t: 'true', f: 'false', n: 'null' }[first];
    if (literal) {
      const i = [...literal].findIndex((c, k) => t[k] !== c);
      if (i > 0 && i < t.length) return `invalid character '${t[i]}' in literal ${literal} (expecting '${literal[i]}')`;
    }
    if (!'{["-0123456789tfn'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
    return 'unexpected end of JSON input';
  }
}

/** validate.ImagePullSecret. */
function pullSecretError(secret: string): string | undefined {
  const bad = jsonError(secret);
  if (bad) return bad;
  const auths = field(JSON.parse(secret) as unknown, 'auths');
  if (auths === null || typeof auths !== 'object' || Object.keys(auths).length === 0) return 'auths required';
  const errs = Object.entries(auths as Doc)
    .filter(([, a]) => field(a, 'auth') === undefined && field(a, 'credsStore') === undefined)
    .map(([d]) => `${JSON.stringify(d)} requires either auth or credsStore`);
  return aggregate(errs);
}

function validateVips(ic: InstallConfig): FieldError[] {
  if (ic.platform !== 'baremetal' && ic.platform !== 'vsphere') return [];
  const errs: FieldError[] = [];
  const base = `platform.${ic.platform}`;
  for (const [kind, key, own, other] of [
    ['API', 'apiVIPs', ic.apiVips, ic.ingressVips],
    ['Ingress', 'ingressVIPs', ic.ingressVips, ic.apiVips],
  ] as const) {
    if (own.length === 0) {
      errs.push(required(`${base}.${key}`, `must specify at least one VIP for the ${kind}`));
      continue;
    }
    for (const vip of own) {
      if (!isIp(vip)) errs.push(invalid(`${base}.${key}`, vip, `${JSON.stringify(vip)} is not a valid IP`));
      if (!inAnyCidr(vip, ic.machineNetworks)) errs.push(invalid(`${base}.${key}`, vip, `IP expected to be in one of the machine networks: ${ic.machineNetworks.join(',')}`));
      if (kind === 'API' && other.includes(vip)) errs.push(invalid(`${base}.${key}`, vip, 'VIP for API must not be one of the Ingress VIPs'));
    }
  }
  return errs;
}

/** pkg/types/validation.ValidateInstallConfig, the checks that matter on platforms none and baremetal. */
function validateGeneral(ic: InstallConfig): FieldError[] {
  if (ic.apiVersion === '') return [required('apiVersion', 'install-config version required')];
  if (ic.apiVersion !== 'v1') return [invalid('apiVersion', ic.apiVersion, 'install-config version must be "v1"')];
  const errs: FieldError[] = [];
  if (ic.sshKey !== '' && !isPublicKeyLine(ic.sshKey)) errs.push(invalid('sshKey', ic.sshKey, 'ssh: no key found'));
  if (!SUBDOMAIN_RE.test(ic.name)) errs.push(invalid('metadata.name', ic.name, SUBDOMAIN_MSG));
  const domain = ic.baseDomain.replace(/\.$/, '');
  if (!SUBDOMAIN_RE.test(domain)) errs.push(invalid('baseDomain', ic.baseDomain, SUBDOMAIN_MSG));
  if (ic.networkType.toLowerCase() === 'openshiftsdn') {
    errs.push(invalid('networking.networkType', ic.networkType, 'networkType OpenShiftSDN is not supported, please use OVNKubernetes'));
  }
  errs.push(...validateVips(ic));
  if (ic.platform === '') errs.push(required('platform', `must specify one of the platforms (${KNOWN_PLATFORMS.join(', ')})`));
  if (ic.controlPlaneReplicas === 2) {
    errs.push(forbidden('controlPlane.fencing.credentials', 'there should be exactly two fencing credentials to support the two node cluster, instead 0 credentials were found'));
  }
  const psErr = pullSecretError(ic.pullSecret);
  if (psErr) errs.push(invalid('pullSecret', ic.pullSecret, psErr));
  return errs;
}

/** OptionalInstallConfig.validateControlPlaneConfiguration and validateSNOConfiguration. */
function validateTopology(ic: InstallConfig): FieldError[] {
  const errs: FieldError[] = [];
  const cp = ic.controlPlaneReplicas;
  if (![1, 3, 4, 5].includes(cp)) errs.push(invalid('ControlPlane.Replicas', cp, `ControlPlane.Replicas can only be set to 5, 4, 3, or 1. Found ${cp}`));
  if (cp === 1) {
    const sno = ic.platform === 'none' || ic.platform === 'external';
    if (ic.computeReplicas === 0) {
      if (sno && ic.networkType !== 'OVNKubernetes') {
        errs.push(invalid('Networking.NetworkType', ic.networkType, 'Only OVNKubernetes network type is allowed for Single Node OpenShift (SNO) cluster'));
      }
      if (!sno) errs.push(invalid('Platform', ic.platform, 'Only platform none and external supports 1 ControlPlane and 0 Compute nodes'));
    } else {
      errs.push(required('Compute.Replicas', `Total number of Compute.Replicas must be 0 when ControlPlane.Replicas is 1 for platform none or external. Found ${ic.computeReplicas}`));
    }
  }
  return errs;
}

/**
 * OptionalInstallConfig.Load's validation, in the installer's order. `report` receives the info
 * line the installer prints between the general and the topology checks.
 */
export function validateInstallConfig(ic: InstallConfig, report: (msg: string) => void): string | undefined {
  const errs = validateGeneral(ic);
  if (ic.platform !== '' && !SUPPORTED_PLATFORMS.includes(ic.platform)) errs.push(notSupported('Platform', ic.platform, SUPPORTED_PLATFORMS));
  report(`Configuration has ${ic.controlPlaneReplicas} master replicas and ${ic.computeReplicas} worker replicas`);
  errs.push(...validateTopology(ic));
  const agg = aggregate(errs);
  return agg === undefined ? undefined : `invalid install-config configuration: ${agg}`;
}
