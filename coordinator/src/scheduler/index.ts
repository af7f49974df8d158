export * from './types.js';
export { schedule, explain } from './schedule.js';
export { gpuModelMatches } from './model-match.js';
export * from './from-spec.js';
