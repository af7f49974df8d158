export {
  requestBucket,
  requestKey,
  requestSchema,
  specBucket,
  specRecordSchema,
  submitRequest,
  SPEC_KEY,
  type ApplyRequest,
  type RunEvent,
  type SpecRecord,
} from './requests.js';
export { RequestQueue } from './queue.js';
export { sweepFinishedRequests } from './retention.js';
