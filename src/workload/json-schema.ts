/**
 * The JSON Schema of workload files, generated from the zod schema (the single
 * source of truth) for editors: `npm run schema` writes it to
 * schema/workload.schema.json, which the files in workloads/ name in "$schema".
 * The error messages of load.ts read it too, to say what a field expects.
 */
import { z } from 'zod';
import { WorkloadSchema } from './schema.js';

/** A JSON Schema node, as far as this project reads one. */
export interface JsonSchemaNode {
  type?: string | string[];
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  additionalProperties?: boolean | JsonSchemaNode;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  $ref?: string;
  definitions?: Record<string, JsonSchemaNode>;
  [k: string]: unknown;
}

/**
 * The schema of what a user writes (zod's input side: keys with defaults are
 * optional). Draft-07, which every common editor understands; a part zod
 * cannot express in JSON Schema (a transform, a refinement) becomes `{}`, any
 * value, rather than failing the generator.
 */
export function jsonSchemaOf(schema: z.ZodType, title: string, description: string): JsonSchemaNode {
  const generated = z.toJSONSchema(schema, { io: 'input', target: 'draft-07', unrepresentable: 'any' }) as JsonSchemaNode;
  const { $schema, ...rest } = generated;
  return { $schema, title, description, ...rest };
}

export function workloadJsonSchema(): JsonSchemaNode {
  return jsonSchemaOf(
    WorkloadSchema,
    'microlith workload',
    'A microlith workload file: the file set, the request mix and popularity, clients, requests and seed. Generated from src/workload/schema.ts by `npm run schema`; do not edit.',
  );
}

/** The text of schema/workload.schema.json. */
export function workloadJsonSchemaText(): string {
  return `${JSON.stringify(workloadJsonSchema(), null, 2)}\n`;
}
