/**
 * Writes schema/workload.schema.json, the JSON Schema of workload files, from the
 * zod schema in src/workload/schema.ts: `npm run schema`. With --check, writes
 * nothing and exits 1 if the committed file differs from what would be written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workloadJsonSchemaText } from '../src/workload/json-schema.js';

const file = fileURLToPath(new URL('../schema/workload.schema.json', import.meta.url));
const text = workloadJsonSchemaText();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing: stale
  }
  if (current !== text) {
    process.stderr.write('schema/workload.schema.json is stale: run npm run schema\n');
    process.exitCode = 1;
  }
} else {
  writeFileSync(file, text);
  process.stderr.write(`wrote ${file}\n`);
}
