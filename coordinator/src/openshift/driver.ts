/**
 * The OpenShift driver of an apply run. prepare: secrets → install-config and agent-config →
 * `agent create image` → the ISO uploaded to every node hosting one of the cluster's VMs, the
 * install recorded before the first upload (so destroy knows every place it went). install:
 * `wait-for bootstrap-complete` then `install-complete`, each host stage one event, then the
 * credentials into the secret store and out of the install directory (remove.ts undoes it all).
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandFailedError, FailedPreconditionError, fileSha256, type Logger } from '@phoenix/shared';
import type { ClusterEvent, OpenShiftDriver } from '../apply/openshift.js';
import type { PlannedCluster, PlannedHost } from '../plan/openshift.js';
import type { CompiledOpenShift } from '../spec/compile.js';
import type { SecretStore } from '../secrets/index.js';
import { openshiftRecordKey, openshiftRecords, updateOpenShiftRecord, type OpenShiftRecordFields, type StateStore } from '../state/index.js';
import { credentialsPath, redactLine } from './credentials.js';
import type { IsoTransfer } from './remove.js';
import { InstallerError, type InstallerLine, type OpenShiftInstaller, type WaitTarget } from './installer.js';
import type { ManifestInputs } from './manifests.js';

export type RenderManifests = (
  cluster: CompiledOpenShift,
  hosts: readonly PlannedHost[],
  inputs: ManifestInputs,
) => { installConfig: string; agentConfig: string };

export interface InstallerDriverOptions {
  readonly installer: OpenShiftInstaller;
  readonly render: RenderManifests;
  /** One install directory per cluster below it. */
  readonly workDir: string;
  readonly secrets: SecretStore;
  readonly store: StateStore;
  readonly isos: IsoTransfer;
  readonly logger: Logger;
  /** Upper bounds of the installer calls. */
  readonly timeoutsMs?: Partial<Record<'image' | WaitTarget, number>>;
}

const DEFAULT_TIMEOUTS_MS: Record<'image' | WaitTarget, number> = {
  image: 15 * 60_000,
  'bootstrap-complete': 90 * 60_000,
  'install-complete': 120 * 60_000,
};
const ISO = 'agent.x86_64.iso';
const HOST_LINE = /^Host:? ([A-Za-z0-9][A-Za-z0-9.-]*)[,:] (.*)$/;
const CONSOLE_URL = /https:\/\/console-openshift-console\.apps\.[A-Za-z0-9.-]+/;

export class InstallerDriver implements OpenShiftDriver {
  constructor(private readonly o: InstallerDriverOptions) {}

  dirOf(cluster: string): string {
    return join(this.o.workDir, cluster);
  }

  async prepare(c: PlannedCluster, emit: (e: ClusterEvent) => void, signal: AbortSignal): Promise<void> {
    const dir = this.dirOf(c.name);
    const spec = c.cluster.spec;
    emit({ cluster: c.name, step: 'image', state: 'running', message: 'rendering install-config.yaml and agent-config.yaml' });
    const inputs: ManifestInputs = {
      pullSecret: await this.o.secrets.resolve(spec.pullSecret),
      sshKey: await this.o.secrets.resolve(spec.sshKey),
      ...(spec.trustBundle ? { trustBundle: await this.o.secrets.resolve(spec.trustBundle) } : {}),
    };
    const known = [inputs.pullSecret, inputs.sshKey];
    const manifests = this.o.render(c.cluster, c.hosts, inputs);
    // A fresh directory: the installer's state from an earlier attempt would describe other hosts.
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    await writeFile(join(dir, 'install-config.yaml'), manifests.installConfig, { mode: 0o600 });
    await writeFile(join(dir, 'agent-config.yaml'), manifests.agentConfig, { mode: 0o600 });
    await this.#installer('image', 'image', c, emit, signal, known, (o) => this.o.installer.createImage(dir, o));
    const sha256 = await fileSha256(join(dir, ISO));
    emit({ cluster: c.name, step: 'image', state: 'done', message: `${ISO} created (sha256 ${sha256.slice(0, 12)})` });

    const previous = (await openshiftRecords(this.o.store).get(openshiftRecordKey(c.name)))?.value;
    const nodes = [...new Set([...(previous?.nodes ?? []), ...c.nodes])].sort();
    await this.#record(c.name, () => ({
      cluster: c.name,
      state: 'installing',
      guests: c.hosts.map((h) => h.guestId),
      nodes,
      isoVolume: c.isoVolume,
      isoSha256: sha256,
      stage: 'image',
    }));
    await Promise.all(
      c.nodes.map(async (node) => {
        emit({ cluster: c.name, step: 'upload', state: 'running', message: `uploading ${c.isoVolume} to ${node}` });
        const r = await this.o.isos.upload(node, { storage: c.isoStorage, file: c.isoFile, path: join(dir, ISO), sha256, signal });
        emit({ cluster: c.name, step: 'upload', state: 'done', message: `${c.isoVolume} on ${node}${r.changed ? '' : ' (already there)'}` });
      }),
    );
    // Nodes that held an earlier ISO of this cluster but host none of its VMs now.
    const stale = nodes.filter((n) => !c.nodes.includes(n));
    for (const node of stale) await this.o.isos.remove(node, { storage: c.isoStorage, file: c.isoFile, signal });
    if (stale.length > 0) await this.#record(c.name, (r) => ({ ...r, nodes: [...c.nodes] }));
  }

  async install(c: PlannedCluster, emit: (e: ClusterEvent) => void, signal: AbortSignal): Promise<void> {
    const dir = this.dirOf(c.name);
    const spec = c.cluster.spec;
    try {
      await readFile(join(dir, '.openshift_install_state.json'));
    } catch (err) {
      throw new FailedPreconditionError(`install directory ${dir} has no installer state: the agent ISO was made elsewhere; run apply again to make a new one`, { cause: err });
    }
    let consoleUrl: string | undefined;
    try {
      for (const [step, target] of [['bootstrap', 'bootstrap-complete'], ['install', 'install-complete']] as const) {
        emit({ cluster: c.name, step, state: 'running', message: `openshift-install agent wait-for ${target}` });
        await this.#installer(step, target, c, emit, signal, [], (o) =>
          this.o.installer.waitFor(dir, target, {
            ...o,
            onLine: (l) => {
              consoleUrl = CONSOLE_URL.exec(l.message)?.[0] ?? consoleUrl;
              o.onLine(l);
            },
          }),
        );
        emit({ cluster: c.name, step, state: 'done', message: `${target}` });
        await this.#record(c.name, (r) => ({ ...r, stage: target }));
      }
      const apiUrl = `https://api.${spec.name}.${spec.baseDomain}:6443`;
      const kubeconfig = await readFile(join(dir, 'auth', 'kubeconfig'), 'utf8');
      const kubeadmin = (await readFile(join(dir, 'auth', 'kubeadmin-password'), 'utf8')).trim();
      const store = this.o.secrets.output;
      if (store === 'file') throw new FailedPreconditionError('the file secret store is read-only: set secrets.output to kv or vault');
      const path = credentialsPath(store, c.name);
      await this.o.secrets.write(path, { api: apiUrl, kubeconfig, kubeadmin, console: consoleUrl ?? '' });
      // The secret store holds them now; the install directory keeps no copy.
      await rm(join(dir, 'auth'), { recursive: true, force: true });
      emit({ cluster: c.name, step: 'credentials', state: 'done', message: `kubeconfig and kubeadmin password stored in ${store}:${path}` });
      await this.#record(c.name, (r) => ({
        ...r,
        state: 'installed',
        stage: 'Cluster is installed',
        apiUrl,
        ...(consoleUrl ? { consoleUrl } : {}),
        credentials: { store, path },
        error: undefined,
      }));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.#record(c.name, (r) => ({ ...r, state: 'failed', error: message })).catch((e: unknown) =>
        this.o.logger.warn({ err: e, cluster: c.name }, 'install failure not recorded'),
      );
      throw err;
    }
  }

  async #installer(
    step: string,
    timeout: 'image' | WaitTarget,
    c: PlannedCluster,
    emit: (e: ClusterEvent) => void,
    signal: AbortSignal,
    secrets: readonly string[],
    call: (o: { signal: AbortSignal; timeoutMs: number; onLine: (l: InstallerLine) => void }) => Promise<void>,
  ): Promise<void> {
    const timeoutMs = this.o.timeoutsMs?.[timeout] ?? DEFAULT_TIMEOUTS_MS[timeout];
    try {
      await call({
        signal,
        timeoutMs,
        onLine: (l) => {
          if (l.level === 'debug') return;
          const message = redactLine(l.message, c.name, secrets);
          const host = HOST_LINE.exec(message);
          emit({
            cluster: c.name,
            step,
            state: l.level === 'error' || l.level === 'fatal' ? 'failed' : 'running',
            message: host ? host[2]! : message,
            ...(host ? { host: host[1]! } : {}),
          });
        },
      });
    } catch (err) {
      const original = err instanceof Error ? err.message : String(err);
      const message = redactLine(original, c.name, secrets);
      emit({ cluster: c.name, step, state: 'failed', message });
      if (message === original) throw err;
      // The installer echoed a secret (it prints an invalid pull secret): the error goes on to the
      // run's events and the install record, so it leaves here redacted and without its cause.
      throw err instanceof InstallerError ? new InstallerError(err.stage, err.installerExit, message) : new CommandFailedError(message);
    }
  }

  #record(cluster: string, fn: (r: OpenShiftRecordFields) => OpenShiftRecordFields): Promise<void> {
    return updateOpenShiftRecord(this.o.store, cluster, fn);
  }
}
