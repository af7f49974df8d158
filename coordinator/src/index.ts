export * from './spec/index.js';
export * from './view/index.js';
export * from './scheduler/index.js';
export * from './importers/index.js';
