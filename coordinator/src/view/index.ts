export * from './types.js';
export * from './liveness.js';
export * from './telemetry.js';
export * from './file.js';
export * from './usage.js';
export * from './summary.js';
export * from './decode.js';
