/**
 * The transport-module extension point and the grant-transport lab: a bad
 * module is refused naming the file and what is wrong; the reference module
 * answers as the monolith does and copies each payload byte once per
 * crossing; the lab's checks pass the reference, and fail the starter and
 * each broken solution with the message that names its problem, and a
 * directory whose transport.ts Node would not load as an ES module with the fix.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../src/run.js';
import { ConfigError } from '../src/config.js';
import { loadTransportModule } from '../src/microkernel/transport-module.js';
import { grantTransportLab, REQUESTS } from '../src/labs/grant-transport.js';
import type { CheckOutcome, GradeContext } from '../src/labs/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test/fixtures/labs/grant-transport');
const REFERENCE = join(fixtures, 'reference');
const STARTER = join(root, 'labs/grant-transport/starter');
const tmp = mkdtempSync(join(tmpdir(), 'microlith-grant-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function moduleFile(name: string, text: string): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

/** Every check of the lab on `dir` (one seed), by name. */
async function checks(dir: string, only?: string[]): Promise<Record<string, CheckOutcome>> {
  const ctx: GradeContext = { dir, seeds: [1] };
  const out: Record<string, CheckOutcome> = {};
  for (const c of grantTransportLab.checks) if (!only || only.includes(c.name)) out[c.name] = await c.run(ctx);
  return out;
}

describe('the transport module loader', () => {
  it('refuses a module without the export, naming the file', async () => {
    const file = moduleFile('none.ts', 'export const other = 1;\n');
    await expect(loadTransportModule(file)).rejects.toThrow(`transport module ${file}: no export \`transport\` (a default or named export \`transport\` is needed)`);
  });

  it('refuses a module whose operations are not functions, naming each', async () => {
    const file = moduleFile('bad.ts', "export const transport = { name: 'bad', grant: 1, revoke() {}, safecopy: 'no', release() {} };\n");
    const err = await loadTransportModule(file).then(() => null, (e: Error) => e);
    expect(err?.message).toBe(`transport module ${file}: \`transport.grant\` must be a function; \`transport.safecopy\` must be a function`);
  });

  it('takes a default export, and refuses a run with a bad module before it starts', async () => {
    const ok = moduleFile('default.ts', "export default { name: 'd', grant: () => null, revoke() {}, safecopy() {}, release() {} };\n");
    expect((await loadTransportModule(ok)).name).toBe('d');
    const bad = moduleFile('noname.ts', 'export const transport = { grant() {}, revoke() {}, safecopy() {}, release() {} };\n');
    await expect(run({ mode: 'microkernel', requests: 5, transportModule: bad })).rejects.toThrow(`transport module ${bad}: \`transport.name\` must be a non-empty string`);
  });

  it('is a microkernel option, and not with another shipped transport', async () => {
    const file = join(REFERENCE, 'transport.ts');
    await expect(run({ mode: 'monolithic', transportModule: file })).rejects.toThrow(ConfigError);
    await expect(run({ mode: 'monolithic', transportModule: file })).rejects.toThrow('transportModule applies to the microkernel only: use mode: \'microkernel\'');
    await expect(run({ mode: 'microkernel', transport: 'shared', transportModule: file })).rejects.toThrow("transportModule cannot go with transport other than 'copy'");
  });
});

describe('the reference transport', () => {
  it('answers as the monolith does, copying each payload byte once per crossing', async () => {
    const opts = { workload: 'specweb96', seed: 7, requests: REQUESTS, clients: 4 } as const;
    const mono = await run({ ...opts, mode: 'monolithic' });
    const copy = await run({ ...opts, mode: 'microkernel', transport: 'copy' });
    const grants = await run({ ...opts, mode: 'microkernel', transportModule: join(REFERENCE, 'transport.ts') });
    expect(grants.status).toBe('ok');
    expect(grants.digest).toBe(mono.digest);
    expect(grants.counters.descriptorsRefused).toBe(0);
    // the bytes that cross are the same whatever the transport; the grants copy each once
    expect(grants.counters.ipcPayloadBytes).toBe(copy.counters.ipcPayloadBytes);
    expect(grants.counters.bytesCopied).toBe(copy.counters.ipcPayloadBytes);
    // the file bytes cross twice (disk to app, app to net), the response headers once (app to net): 2 × files + headers
    const files = grants.countersByServer.disk.ipcPayloadBytes;
    const headers = mono.counters.payloadBytes - files;
    expect(headers).toBeGreaterThan(0);
    expect(grants.counters.bytesCopied).toBe(2 * files + headers);
    // the receivers copy the granted bytes: the disk copies nothing, net the file bytes, the app the file bytes and its headers
    expect(grants.countersByServer.disk.bytesCopied).toBe(0);
    expect(grants.countersByServer.net.bytesCopied).toBe(files);
    expect(grants.countersByServer.app.bytesCopied).toBe(files + headers);
    // and fewer than the copy transport, which clones whole cache blocks
    expect(grants.counters.bytesCopied).toBeLessThan(copy.counters.bytesCopied);
  });
});

describe('the grant-transport lab', () => {
  it('passes the reference solution on every check', async () => {
    const r = await checks(REFERENCE);
    expect(Object.keys(r)).toEqual(['digests', 'copies', 'refuses', 'no-leaks']);
    for (const [name, o] of Object.entries(r)) expect({ name, ...o }).toMatchObject({ name, ok: true });
  });

  it('fails the starter: it copies twice and refuses nothing, though its digests are right', async () => {
    const r = await checks(STARTER);
    expect(r.digests.ok).toBe(true);
    expect(r.copies).toMatchObject({ ok: false, message: expect.stringContaining("copied 2.00× the payload bytes") });
    expect(r.copies).toMatchObject({ message: expect.stringContaining("a grant's data must be copied once, by the receiver") });
    expect(r.refuses).toMatchObject({ ok: false, message: 'seed 1: safecopy through a revoked grant returned data: it must throw' });
    expect(r['no-leaks'].ok).toBe(false);
  });

  it('fails a solution that copies through a bounce buffer on copies alone', async () => {
    const r = await checks(join(fixtures, 'broken/copies-twice'));
    expect(r.copies).toMatchObject({ ok: false, message: expect.stringContaining("copied 2.00× the payload bytes") });
    expect(r.digests.ok && r.refuses.ok && r['no-leaks'].ok).toBe(true);
  });

  it('fails a solution that reads through a revoked grant on refuses', async () => {
    const r = await checks(join(fixtures, 'broken/stale-grant'), ['refuses', 'no-leaks']);
    expect(r.refuses).toEqual({ ok: false, message: 'seed 1: safecopy through a revoked grant returned data: it must throw' });
    expect(r['no-leaks'].ok).toBe(true);
  });

  it('says, before loading anything, that a transport.ts without a package.json of "type": "module" is not loaded as an ES module, and how to fix it', async () => {
    const bare = join(tmp, 'no-package');
    mkdirSync(bare);
    copyFileSync(join(REFERENCE, 'transport.ts'), join(bare, 'transport.ts'));
    const file = join(bare, 'transport.ts');
    const fix = `add ${join(bare, 'package.json')} containing {"type": "module"} (microlith lab init grant-transport NEWDIR makes one with the starter)`;
    const none = await checks(bare);
    expect(Object.keys(none)).toEqual(['digests', 'copies', 'refuses', 'no-leaks']);
    for (const o of Object.values(none)) {
      expect(o).toEqual({ ok: false, message: `${file} is an ES module, but ${bare} has no package.json with "type": "module" (nor has any directory above it), so Node loads it as CommonJS: ${fix}` });
    }
    // a package.json that does not say "type": "module" is named, with what it says
    writeFileSync(join(bare, 'package.json'), '{ "private": true }\n');
    expect((await checks(bare, ['digests'])).digests).toEqual({
      ok: false,
      message: `${file} is an ES module, but ${join(bare, 'package.json')}, the package.json that governs it, does not say "type": "module" (it has no "type"), so Node loads it as CommonJS: ${fix}`,
    });
    writeFileSync(join(bare, 'package.json'), '{ "type": "commonjs" }\n');
    expect((await checks(bare, ['refuses'])).refuses).toMatchObject({ ok: false, message: expect.stringContaining('its "type" is "commonjs"') });
    // with the starter's package.json it grades
    copyFileSync(join(STARTER, 'package.json'), join(bare, 'package.json'));
    expect((await checks(bare, ['refuses'])).refuses).toEqual({ ok: true });
  });

  it('fails a solution that reads through a stale grant id (its generation unchecked) on refuses', async () => {
    const r = await checks(join(fixtures, 'broken/ignores-generation'), ['refuses', 'no-leaks']);
    expect(r.refuses).toEqual({ ok: false, message: 'seed 1: safecopy through a forged grant id (the right entry, another generation) returned data: it must throw' });
    expect(r['no-leaks'].ok).toBe(true);
  });
});
