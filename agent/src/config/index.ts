export { agentConfigSchema, TOOL_NAMES, type AgentConfig, type AgentConfigInput, type ToolName } from './schema.js';
export { loadConfig, parseConfig, ENV_PREFIX } from './load.js';
export { ConfigError } from './errors.js';
export { compileConfig, parseHostPort, type CompiledConfig, type HostPort, type NatsAuth } from './compile.js';
