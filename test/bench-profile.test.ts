/**
 * `npm run bench -- --profile-cpu`'s summary of one V8 CPU profile: self time
 * per function from the samples, idle time apart, and which thread it was.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { breakdown, stageOf, STAGES, summariseProfile } from '../bench/profile.js';

const tmp = mkdtempSync(join(tmpdir(), 'microlith-profile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

describe('summariseProfile', () => {
  it("adds each function's sampled self time, leaves idle out of the busy share, and names a server's domain by its busiest handlers", () => {
    const file = join(tmp, 'p.cpuprofile');
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)') },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('checksumFrames', 'file:///x/dist/servers/net.js', 136) },
        { id: 4, callFrame: frame('getBlock', 'file:///x/dist/servers/disk.js', 20) },
        { id: 5, callFrame: frame('invocation', 'file:///x/dist/microkernel/worker.js', 132) },
      ],
      // µs per sample: idle 600, checksumFrames 300, worker 50, disk 50
      samples: [2, 3, 3, 2, 5, 4, 3],
      timeDeltas: [300, 100, 100, 300, 50, 50, 100],
    };
    writeFileSync(file, JSON.stringify(profile));
    const s = summariseProfile(file);
    expect(s.thread).toBe("the net server's domain");
    expect(s.sampledMs).toBe(1);
    expect(s.busyShare).toBe(0.4);
    expect(s.top.map((t) => [t.fn, t.at, t.ms])).toEqual([
      ['checksumFrames', 'dist/servers/net.js:137', 0.3],
      ['getBlock', 'dist/servers/disk.js:21', 0.1],
      ['invocation', 'dist/microkernel/worker.js:133', 0.1],
    ]);
    expect(s.top[0].share).toBe(0.75);
  });
});

describe('stages of a message', () => {
  it('each function goes to the stage of where it is', () => {
    const d = (p: string) => `file:///x/dist/${p}`;
    expect(stageOf('(garbage collector)', '', 0)).toBe('GC');
    expect(stageOf('compileSourceTextModule', 'node:internal/modules/esm/utils', 0)).toBe('start-up');
    expect(stageOf('fillSeeded', d('servers/fs.js'), 60)).toBe('start-up');
    expect(stageOf('postMessage', '', 0)).toBe('post');
    expect(stageOf('postFrame', d('microkernel/ipc.js'), 0)).toBe('post');
    expect(stageOf('ring', d('microkernel/ring.js'), 0)).toBe('wake-up');
    expect(stageOf('drain', d('microkernel/ring.js'), 0)).toBe('decode');
    expect(stageOf('decode', d('microkernel/transport.js'), 0)).toBe('decode');
    expect(stageOf('encode', d('microkernel/transport.js'), 0)).toBe('encode');
    expect(stageOf('release', d('microkernel/transport.js'), 0)).toBe('reply');
    expect(stageOf('checkCall', d('microkernel/shapes.js'), 0)).toBe('dispatch');
    expect(stageOf('checkReply', d('microkernel/shapes.js'), 0)).toBe('continuation');
    expect(stageOf('receiveReply', d('microkernel/ipc.js'), 0)).toBe('continuation');
    expect(stageOf('answer', d('microkernel/ipc.js'), 0)).toBe('reply');
    expect(stageOf('handleCall', d('microkernel/ipc.js'), 0)).toBe('dispatch');
    expect(stageOf('checksumFrames', d('servers/net.js'), 136)).toBe('server work');
    expect(stageOf('crc32', 'node:zlib', 852)).toBe('server work');
    expect(stageOf('somethingElse', 'node:internal/url', 1)).toBe('other');
  });

  it('a run\'s breakdown sums the kernel threads\' stages per request and per message, leaving the harness and start-up out', () => {
    const zero = Object.fromEntries(STAGES.map((x) => [x, 0])) as Record<(typeof STAGES)[number], number>;
    const t = (thread: string, stages: Partial<typeof zero>) => ({ file: '', thread, sampledMs: 0, busyShare: 0, top: [], stages: { ...zero, ...stages } });
    const rows = breakdown({
      threads: [t('the harness (clients, supervisor)', { post: 1000 }), t("the net server's domain", { post: 400, 'start-up': 9000 }), t("the app server's domain", { post: 400, GC: 80 })],
      requests: 10,
      messages: 80,
    });
    expect(rows.map((r) => r.stage)).not.toContain('start-up');
    expect(rows.find((r) => r.stage === 'post')).toEqual({ stage: 'post', usPerRequest: 80, usPerMessage: 10 });
    expect(rows.find((r) => r.stage === 'GC')).toEqual({ stage: 'GC', usPerRequest: 8, usPerMessage: 1 });
  });
});
