/** The agent's version, from its package.json (read once; works from src/ and dist/ alike). */
import { packageVersion } from '@phoenix/shared';

export const AGENT_VERSION = packageVersion(new URL('../package.json', import.meta.url));
