/**
 * The JSON Schema of the spec, generated from the same zod types (input side: defaulted fields are
 * optional), committed as coordinator/schema/phoenix-spec.schema.json for editors.
 */
import { z } from 'zod';
import { specSchema } from './spec.js';

export const SCHEMA_ID = 'https://phoenix.invalid/schema/phoenix-spec.schema.json';

export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(specSchema, { io: 'input', target: 'draft-2020-12' });
  return { ...schema, $id: SCHEMA_ID, title: 'Phoenix cluster spec' };
}

/** The exact text committed to the repository. */
export function specJsonSchemaText(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}
