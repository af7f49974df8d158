export { setupNodes, formatSetupEvent, type NodeSetupOptions, type NodeSetupResult } from './run.js';
export { PHOENIX_APPARMOR, STOCK_APPARMOR } from './apparmor-library.js';
