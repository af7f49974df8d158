/**
 * Drivers for the node's tools. The daemon builds one bundle per process:
 *
 *   const drivers = createNodeDrivers({ node, executor: { toolPaths, env, timeoutMs, onCommand } });
 *
 * Everything the pipeline needs is behind the interfaces in types.ts; tests swap in fakes.
 */
import type { Logger } from '@phoenix/shared';
import { LxcConfigFileEditor } from './lxc-conf-file.js';
import { NodeFacts } from './node-facts.js';
import { NvidiaSmi } from './nvidia-smi.js';
import { Pct } from './pct.js';
import { Pveam } from './pveam.js';
import { Pvesh } from './pvesh.js';
import { Pvesm } from './pvesm.js';
import { Qm } from './qm.js';
import { CommandExecutor, type ExecutorOptions } from './run.js';
import type { NodeDrivers } from './types.js';
import { Zfs } from './zfs.js';

export * from './types.js';
export { CommandExecutor, TOOL_NAMES, TOOL_FILES } from './run.js';
export type { ExecutorOptions, CommandMetric, RunRequest, RunResult, LongProcess, ToolName } from './run.js';
export { GpuSampler, type GpuSamplerOptions } from './gpu-sampler.js';
export { NodeFacts, decodeDev, normalizeBusId, type NodeFactsOptions } from './node-facts.js';
export { LxcConfigFileEditor, replaceRawLines, rawLinesOf } from './lxc-conf-file.js';
export { mapToolFailure, parseParamErrors, type ToolFailure, type ParamError } from './tool-errors.js';
export { parseGuestConfig, parsePropertyString, formatPropertyString, decodePveEscapes, parseDiskSize } from './parse-config.js';
export { parsePctList, parseQmList, parseSnapshotTree, parsePvesmStatus, parsePveamList, parsePveamAvailable } from './parse-pve.js';
export { parseZfsList, parseZpoolList } from './parse-zfs.js';
export { GPU_QUERY_FIELDS, parseGpuQuery, parseGpuQueryLine, parseProcDriverVersion, parseSmiHeader } from './parse-nvidia.js';
export { gpuQueryArgs } from './nvidia-smi.js';
export { Pct, Qm, Pvesh, Pvesm, Zfs, Pveam, NvidiaSmi };

export interface NodeDriversOptions {
  /** This node's name (PVE paths such as /nodes/<node>/lxc). */
  node: string;
  executor?: ExecutorOptions | CommandExecutor;
  /** Directory of LXC configs. @default "/etc/pve/nodes/<node>/lxc" */
  lxcConfDir?: string;
  /** Prefix of /dev and /proc for node facts. @default "/" */
  hostRoot?: string;
  logger?: Logger;
}

export interface CreatedNodeDrivers extends NodeDrivers {
  executor: CommandExecutor;
}

export function createNodeDrivers(options: NodeDriversOptions): CreatedNodeDrivers {
  const executor =
    options.executor instanceof CommandExecutor
      ? options.executor
      : new CommandExecutor({ ...(options.logger ? { logger: options.logger } : {}), ...(options.executor ?? {}) });
  const nvidia = new NvidiaSmi(executor);
  return {
    node: options.node,
    executor,
    pct: new Pct(executor),
    qm: new Qm(executor),
    pvesh: new Pvesh(executor),
    pvesm: new Pvesm(executor),
    zfs: new Zfs(executor),
    pveam: new Pveam(executor),
    nvidia,
    lxcConf: new LxcConfigFileEditor({
      dir: options.lxcConfDir ?? `/etc/pve/nodes/${options.node}/lxc`,
      onWrite: (ms, ok) => executor.recordMutation('lxc-conf', 'write', ms, ok),
    }),
    facts: new NodeFacts({ ...(options.hostRoot ? { hostRoot: options.hostRoot } : {}), nvidiaSmi: nvidia }),
    stats: () => executor.callStats(),
  };
}
