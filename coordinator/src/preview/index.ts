export { livePlan, type LivePlanOptions } from './dry-run.js';
