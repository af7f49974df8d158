export { AgentClient, type AgentEndpoint, type AgentClientOptions, type CallOpts } from './client.js';
