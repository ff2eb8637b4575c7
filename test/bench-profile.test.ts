/**
 * `npm run bench -- --profile-cpu`'s summary of one V8 CPU profile: self time
 * per function from the samples, idle time apart, and which thread it was.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summariseProfile } from '../bench/profile.js';

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
