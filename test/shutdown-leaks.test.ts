/**
 * After run() returns, nothing the kernel started is left alive in this process:
 * no worker thread and no MessagePort (Kernel.shutdown's contract), whether the
 * run ended normally or with a crashed server, and in the microkernel whatever
 * the supervisor started to restart it.
 *
 * What is observed, and why: on Node 20 `process.getActiveResourcesInfo()` does
 * not list a live Worker at all (and lists a MessagePort only while it is
 * ref'd with a listener), so it cannot be the check. Instead an async_hooks hook
 * tracks every WORKER and MESSAGEPORT resource from creation to destruction, and
 * on Linux the OS threads of this process are counted from /proc/self/task.
 * The first tests prove both observables see a deliberately leaked Worker and
 * MessagePort, and see them go away when released.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { ServerName } from '../src/protocol.js';
import { run, type RunOptions } from '../src/run.js';
import { HAVE_PROC, osThreads, settle, trackResources } from './support/leaks.js';
import { spawnAsync } from './support/cli.js';
import { TEST_NODE_FLAGS } from './support/node-flags.js';

type Tracked = 'WORKER' | 'MESSAGEPORT' | 'Timeout';

const { live, created, liveCount } = trackResources<Tracked>(['WORKER', 'MESSAGEPORT', 'Timeout']);

/** What the process holds now. */
async function snapshot() {
  await settle();
  return {
    workers: liveCount('WORKER'),
    ports: liveCount('MESSAGEPORT'),
    threads: osThreads(),
    activeMessagePorts: process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length,
  };
}

/** Tracked resources created since `mark` (an index into `created`) that are still alive. */
function survivorsSince(mark: number, type: Tracked): number {
  return created.slice(mark).filter((c) => c.type === type && live.has(c.id)).length;
}

/** Nothing created since `mark` survives, and the counts are back to `before`. */
async function expectNothingLeft(before: Awaited<ReturnType<typeof snapshot>>, mark: number, opts = { activePorts: false }) {
  const after = await snapshot();
  expect(after.workers).toBe(before.workers);
  expect(after.ports).toBe(before.ports);
  if (opts.activePorts) expect(after.activeMessagePorts).toBe(before.activeMessagePorts);
  if (HAVE_PROC) expect(after.threads).toBe(before.threads);
  expect(survivorsSince(mark, 'WORKER') + survivorsSince(mark, 'MESSAGEPORT')).toBe(0);
}

describe('the leak check itself', () => {
  it('sees a deliberately leaked Worker, and sees it go when terminated', async () => {
    const before = await snapshot();
    const leaked = new Worker('setInterval(() => {}, 1000)', { eval: true, name: 'deliberate-leak' });
    await new Promise((res) => leaked.once('online', res));
    leaked.unref(); // even an unref'd worker is alive and must be seen
    const during = await snapshot();
    expect(during.workers).toBe(before.workers + 1);
    if (HAVE_PROC) expect(during.threads).toBeGreaterThan(before.threads);

    await leaked.terminate();
    const after = await snapshot();
    expect(after.workers).toBe(before.workers);
    if (HAVE_PROC) expect(after.threads).toBe(before.threads);
  });

  it('sees a deliberately leaked MessagePort pair, and sees it go when closed', async () => {
    const before = await snapshot();
    const { port1, port2 } = new MessageChannel();
    port1.on('message', () => {});
    const during = await snapshot();
    expect(during.ports).toBe(before.ports + 2);
    expect(during.activeMessagePorts).toBe(before.activeMessagePorts + 1);

    port1.close();
    port2.close();
    await new Promise((res) => port1.once('close', res));
    const after = await snapshot();
    expect(after.ports).toBe(before.ports);
    expect(after.activeMessagePorts).toBe(before.activeMessagePorts);
  });
});

const BASE: RunOptions = { mode: 'microkernel', workload: 'specweb96', seed: 3, requests: 300 };

describe('microkernel runs leave nothing alive', () => {
  it('a run that ends normally', async () => {
    const before = await snapshot();
    const mark = created.length;
    const report = await run(BASE);
    expect(report.status).toBe('ok');
    // the run really started one worker per server (so "none left" is not vacuous)
    // ...and the channels between them (granted pairs) were made here
    expect(created.slice(mark).filter((c) => c.type === 'MESSAGEPORT').length).toBeGreaterThanOrEqual(4);
    await expectNothingLeft(before, mark, { activePorts: true });
  });

  it.each(['disk', 'app', 'net'] as ServerName[])('a run in which the %s server crashed and was restarted', async (server) => {
    const before = await snapshot();
    const mark = created.length;
    const report = await run({ ...BASE, faults: [`${server}@50`] });
    // the fault fired at the server's message 50 (the first at or after it that a server sent: net's
    // device messages count, but no fault strikes them), and the supervisor restarted the server
    expect(report.faults.map((f) => [f.server, f.kind, f.outcome])).toEqual([[server, 'crash', 'restarted']]);
    expect(report.faults[0].atMessage).toBeGreaterThanOrEqual(50);
    if (server !== 'net') expect(report.faults[0].atMessage).toBe(50);
    expect(report.servers[server]).toMatchObject({ incarnations: 2, restarts: 1 });
    // one worker per server, and one more for the restarted incarnation
    expect(created.slice(mark).filter((c) => c.type === 'WORKER')).toHaveLength(4);
    await expectNothingLeft(before, mark, { activePorts: true });
  });

  it('a run in which a server hung (its worker is terminated, and a new one started)', async () => {
    const before = await snapshot();
    const mark = created.length;
    // a heartbeat timeout long enough that a busy machine does not make a healthy domain look hung too
    const report = await run({ ...BASE, hangTimeoutMs: 1500, callTimeoutMs: 1500, faults: ['disk@50:hang'] });
    expect(report.faults.map((f) => [f.server, f.kind, f.outcome])).toEqual([['disk', 'hang', 'restarted']]);
    expect(report.servers.disk).toMatchObject({ incarnations: 2, restarts: 1 });
    expect(created.slice(mark).filter((c) => c.type === 'WORKER')).toHaveLength(4);
    await expectNothingLeft(before, mark);
  });

  it('several runs in a row do not accumulate threads', async () => {
    const before = await snapshot();
    for (let i = 0; i < 3; i++) await run({ ...BASE, seed: 10 + i, requests: 100 });
    const after = await snapshot();
    expect(after.workers).toBe(before.workers);
    expect(after.ports).toBe(before.ports);
    if (HAVE_PROC) expect(after.threads).toBe(before.threads);
  });
});

describe('monolithic runs leave nothing alive (the kernel has a thread of its own)', () => {
  it.each([
    ['ends normally', undefined],
    ['panics', 'disk@50'],
    ['hangs', 'app@50:hang'],
  ] as const)('a run that %s', async (_what, fault) => {
    const before = await snapshot();
    const mark = created.length;
    const report = await run({ ...BASE, mode: 'monolithic', hangTimeoutMs: 300, callTimeoutMs: 300, ...(fault ? { faults: [fault] } : {}) });
    expect(report.status).toBe(fault ? 'failed' : 'ok');
    expect(report.faults.map((f) => f.outcome)).toEqual(fault ? ['system-down'] : []);
    // the kernel really ran in a worker of its own (so "none left" is not vacuous)
    expect(created.slice(mark).filter((c) => c.type === 'WORKER')).toHaveLength(1);
    await expectNothingLeft(before, mark);
  });
});

describe('timers', () => {
  it('a run that ends normally leaves no timer of its own behind', async () => {
    await settle();
    const mark = created.length;
    await run(BASE);
    await settle();
    expect(survivorsSince(mark, 'Timeout')).toBe(0);
  });

  // After a crash the supervisor arms timers (the restart's back-off, the new
  // incarnation's boot deadline) and the app's calls wait for the restart; they
  // must all be cleared when the run ends (Kernel.shutdown promises no timer is left).
  let faultedSurvivors = -1;
  it('a faulted run completes (setup for the next test)', async () => {
    await settle();
    const mark = created.length;
    // enough requests that the kernel notices the crash, and restarts the disk, while the clients still run
    const report = await run({ ...BASE, requests: 2000, faults: ['disk@50'] });
    expect(report.faults.map((f) => [f.server, f.outcome])).toEqual([['disk', 'restarted']]);
    await settle();
    faultedSurvivors = survivorsSince(mark, 'Timeout');
  });

  it('a faulted run leaves no timer of its own behind', () => {
    expect(faultedSurvivors).toBe(0);
  });
});

describe("the tests' own processes", () => {
  it('run with the V8 flags of node-flags.ts: each thread optimizes its own code, so no optimizing job outlives a thread that ends (Node 20 aborts on one)', async () => {
    // the forks get them from vitest.config.ts, the node children spawnAsync (and spawnCli) start from node-flags.ts
    expect(TEST_NODE_FLAGS).toContain('--no-concurrent-recompilation');
    for (const f of TEST_NODE_FLAGS) expect(process.execArgv).toContain(f);
    const child = await spawnAsync(process.execPath, ['-e', 'console.log(JSON.stringify(process.execArgv))']);
    expect((JSON.parse(child.stdout) as string[]).slice(0, TEST_NODE_FLAGS.length)).toEqual([...TEST_NODE_FLAGS]);
  });
});
