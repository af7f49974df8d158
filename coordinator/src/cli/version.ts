/** The CLI's version, from the coordinator's package.json (works from src/ and dist/ alike). */
import { packageVersion } from '@phoenix/shared';

export const VERSION = packageVersion(new URL('../../package.json', import.meta.url));
