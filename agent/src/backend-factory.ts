/** Production wiring: the node backend over the guest pipeline and the drivers. */
import type { CompiledConfig } from './config/index.js';
import type { BackendFactory } from './daemon.js';
import { createNodeBackend } from './node-backend.js';
import { createGuestPipeline } from './pipeline/index.js';

export function createPipelineBackend(config: CompiledConfig): BackendFactory {
  return (drivers, context) =>
    createNodeBackend({
      node: config.node,
      drivers,
      host: { drivers, executor: drivers.executor, hostRoot: config.tools.hostRoot, node: config.node },
      pipeline: createGuestPipeline({ drivers, logger: context.log, isOperationActive: context.isOperationActive }),
    });
}
