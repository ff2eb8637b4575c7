/**
 * Writes the JSON Schemas of the project's input files from their zod schemas:
 * schema/workload.schema.json (src/workload/schema.ts) and
 * schema/profile.schema.json (src/costmodel/profile.ts): `npm run schema`. With
 * --check, writes nothing and exits 1 if a committed file differs from what
 * would be written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workloadJsonSchemaText } from '../src/workload/json-schema.js';
import { profileJsonSchema } from '../src/costmodel/profile.js';

const outputs: [string, string][] = [
  ['workload.schema.json', workloadJsonSchemaText()],
  ['profile.schema.json', `${JSON.stringify(profileJsonSchema(), null, 2)}\n`],
];

for (const [name, text] of outputs) {
  const file = fileURLToPath(new URL(`../schema/${name}`, import.meta.url));
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== text) {
      process.stderr.write(`schema/${name} is stale: run npm run schema\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(file, text);
    process.stderr.write(`wrote schema/${name}\n`);
  }
}
