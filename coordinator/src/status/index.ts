export { statusRows, type StatusRow } from './drift.js';
