export { importPhoenix, type PhoenixImportOptions, type PhoenixImportResult, type ImportResult } from './phoenix/index.js';
export { importProxShift, type ProxShiftImportOptions } from './proxshift/index.js';
export { type ImportWarning, formatWarning } from './warnings.js';
export { specToYaml, prune } from './output.js';
