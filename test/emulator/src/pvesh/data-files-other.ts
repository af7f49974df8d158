import fs from 'node:fs';
import { dataFile } from '../core/data-files.js';
import { EmulatorError } from '../core/errors.js';
import type { ObjectSchema, PropSchema } from '../core/schema.js';

/** Parameter and return schemas of the other API endpoints (api-other-endpoints.json). */
export interface OtherEndpoint {
  parameters: ObjectSchema;
  returns?: PropSchema & { items?: PropSchema & { properties?: Record<string, PropSchema> }; properties?: Record<string, PropSchema> };
}

let cache: Record<string, OtherEndpoint> | undefined;

export function otherEndpoints(): Record<string, OtherEndpoint> {
  if (cache) return cache;
  let file: string;
  try {
    file = dataFile('api-other-endpoints.json');
  } catch (err) {
    if (!(err instanceof EmulatorError)) throw err;
    cache = {};
    return cache;
  }
  cache = (JSON.parse(fs.readFileSync(file, 'utf8')) as { endpoints: Record<string, OtherEndpoint> }).endpoints;
  return cache;
}
