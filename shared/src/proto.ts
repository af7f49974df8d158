/** Generated protobuf types and gRPC service definitions, one namespace per proto package. */
export * as agentv1 from './gen/phoenix/agent/v1/agent.js';
export * as commonv1 from './gen/phoenix/common/v1/common.js';
export * as telemetryv1 from './gen/phoenix/telemetry/v1/telemetry.js';
