export { drainedNodes, nodeBucket, nodeKey, nodeRecordSchema, readStoredView, type NodeRecord } from './record.js';
export { setDrained, type DrainResult } from './drain.js';
