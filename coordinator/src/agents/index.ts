export { AgentClient, type AgentEndpoint, type AgentClientOptions, type CallOpts } from './client.js';
export { agentRunner, idempotencyKey } from './runner.js';
