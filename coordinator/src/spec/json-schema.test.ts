import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { specJsonSchema, specJsonSchemaText } from './json-schema.js';
import { SCHEMA_PATH } from './schema-tool.js';

describe('JSON Schema of the spec', () => {
  it('is committed and matches the zod types (run npm run schema:gen -w @phoenix/coordinator after a change)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(specJsonSchemaText());
  });

  it('describes the input side: strict objects, defaulted fields optional', () => {
    const schema = specJsonSchema() as {
      additionalProperties: unknown;
      required: string[];
      properties: Record<string, { default?: unknown }>;
      $schema: string;
    };
    expect(schema.$schema).toContain('2020-12');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['version', 'cluster']);
    expect(schema.properties['containers']?.default).toEqual([]);
  });
});
