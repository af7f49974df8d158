import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ObjectSchema, PropSchema } from './schema.js';

/** Parameter and return schemas of the other API endpoints (api-other-endpoints.json). */
export interface OtherEndpoint {
  parameters: ObjectSchema;
  returns?: PropSchema & { items?: PropSchema & { properties?: Record<string, PropSchema> }; properties?: Record<string, PropSchema> };
}

let cache: Record<string, OtherEndpoint> | undefined;

export function otherEndpoints(): Record<string, OtherEndpoint> {
  if (cache) return cache;
  for (const rel of ['../data/api-other-endpoints.json', '../../../emulator/data/api-other-endpoints.json']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (fs.existsSync(p)) {
      cache = (JSON.parse(fs.readFileSync(p, 'utf8')) as { endpoints: Record<string, OtherEndpoint> }).endpoints;
      return cache;
    }
  }
  cache = {};
  return cache;
}
