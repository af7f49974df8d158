export { connectNats, contextSchema, contextTls, loadContext, type ClusterContext } from './context.js';
