/**
 * `npm run wasm`: compile src/servers/alea.wat (with wabt) into src/servers/alea-wasm.ts,
 * the module's bytes that fillSeeded instantiates. test/fs-image.test.ts checks that the
 * bytes there are this file's, compiled.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = fileURLToPath(new URL('..', import.meta.url));

/** alea.wat compiled, as base64. */
export async function aleaWasmBase64() {
  const wabt = await wabtInit();
  const m = wabt.parseWat('alea.wat', readFileSync(`${root}src/servers/alea.wat`, 'utf8'));
  try {
    return Buffer.from(m.toBinary({}).buffer).toString('base64');
  } finally {
    m.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const b64 = await aleaWasmBase64();
  writeFileSync(
    `${root}src/servers/alea-wasm.ts`,
    `// made by \`npm run wasm\` from alea.wat beside this file: do not edit\n/** src/servers/alea.wat, compiled (base64). */\nexport const ALEA_WASM = '${b64}';\n`,
  );
  console.log(`src/servers/alea-wasm.ts: ${Buffer.from(b64, 'base64').length} bytes`);
}
