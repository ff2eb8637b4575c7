/** src/servers/alea.wat compiled, as base64 (scripts/gen-alea-wasm.mjs). */
export function aleaWasmBase64(): Promise<string>;
