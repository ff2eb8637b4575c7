/**
 * `npm run bench -- --profile-cpu`: where each thread's time goes. Every label
 * runs once as `microlith run` under Node's `--cpu-prof`, which writes one V8
 * CPU profile per thread (the harness and every kernel domain), and each
 * profile is summarised: its thread, its total sampled time, and the functions
 * with the most self time (host-measured, sampled). The profiles are kept
 * beside the summary so they can be opened in Chrome DevTools or speedscope.
 * The domains start from their per-file modules, not the build's bundles
 * (MICROLITH_UNBUNDLED=1), so that every function keeps its file and its stage.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A V8 CPU profile, as `--cpu-prof` writes it (the fields read here). */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ThreadProfile {
  file: string;
  /** What ran in it, from the functions seen: the harness, or a kernel domain. */
  thread: string;
  /** Sampled wall time of the thread, ms, and the share of it not idle. */
  sampledMs: number;
  busyShare: number;
  /** The functions with the most self time: name, where, ms, share of the busy time. */
  top: { fn: string; at: string; ms: number; share: number }[];
  /** Self time by stage of a message's life (STAGES), µs. */
  stages: Record<Stage, number>;
}

/**
 * The stages of one message's host cost, and of the work around it. Each
 * function's self time goes to one stage, by where it is (file and function):
 *   encode        the transport codec and the rings' binary frames, written
 *   post          the Endpoint's send and count, the port or ring write, the
 *                 publication; with message signalling also Node's postMessage,
 *                 whose structured clone (the encoding) happens inside it
 *   wake-up       doorbells, sleeping and waking, and the event loop's turns
 *   decode        the frames read out of a ring, descriptors mapped; a
 *                 MessagePort's message event (its deserialisation is in it)
 *   dispatch      receiving a call: shape checks, the handler's context, fault
 *                 hooks, the call table
 *   reply         answering: the reply's send and the payload pins released
 *   continuation  a reply reaching its caller: the pending call settled, the
 *                 reply's shape checked, the awaiting code resumed
 *   server work   the servers' own code (handlers, checksums, the NIC's hash)
 *   GC            the garbage collector
 *   start-up      loading modules and building the disk image (not per message)
 *   other         the rest
 */
export const STAGES = ['encode', 'post', 'wake-up', 'decode', 'dispatch', 'reply', 'continuation', 'server work', 'GC', 'start-up', 'other'] as const;
export type Stage = (typeof STAGES)[number];

/** The first line of FrameReader in the compiled frame codec: functions above it write frames, below it read them. */
let readerLine: number | null = null;
function frameReaderLine(url: string): number {
  if (readerLine === null) {
    try {
      const text = readFileSync(new URL(url), 'utf8').split('\n');
      readerLine = text.findIndex((l) => l.includes('class FrameReader'));
    } catch {
      readerLine = -1;
    }
  }
  return readerLine;
}

/** The stage a function's self time belongs to (see STAGES). */
export function stageOf(fn: string, url: string, line: number): Stage {
  const at = url.replace(/^.*\/(dist|src)\//, '');
  if (fn === '(garbage collector)') return 'GC';
  if (/^node:internal\/(modules|bootstrap)|^node:internal\/deps\/cjs-module-lexer/.test(url) || /^(compile|wrapSafe|openFileHandle|readFileHandle|fstat|realpathSync|internalBinding)/.test(fn)) return 'start-up';
  if (at.startsWith('servers/fs.') || at.startsWith('boot.') || at.startsWith('workload/')) return 'start-up';
  if (at.startsWith('microkernel/frame-codec.')) return line >= frameReaderLine(url) && frameReaderLine(url) >= 0 ? 'decode' : 'encode';
  if (at.startsWith('microkernel/transport.') || at.startsWith('microkernel/pool.')) {
    if (/decode|resolve/.test(fn)) return 'decode';
    if (/release|unpin/.test(fn)) return 'reply';
    return 'encode';
  }
  if (at.startsWith('microkernel/ring.')) {
    if (/^(ring|sleep|wake|turn|kick|idle|isEmpty|hasBacklog)$/.test(fn)) return 'wake-up';
    if (/^(drain|service)$/.test(fn) || fn === '(anonymous)') return 'decode';
    return 'post';
  }
  if (at.startsWith('microkernel/batch.')) return fn === '(anonymous)' ? 'decode' : 'post';
  if (at.startsWith('microkernel/ipc.')) {
    if (/^(post|postFrame|count|payloadBytes|itemBytes|clonedBytes|eachPayloadItem|send|notify)$/.test(fn)) return 'post';
    if (/^(answer|tracedAnswer)$/.test(fn)) return 'reply';
    if (/^(receiveReply|tracedReply|call|tracedCall|drop)$/.test(fn)) return 'continuation';
    return 'dispatch';
  }
  if (at.startsWith('microkernel/shapes.')) return /Reply/.test(fn) ? 'continuation' : 'dispatch';
  if (at.startsWith('microkernel/worker.') || at.startsWith('faults/inject.') || at === 'servers/server.js' || at.startsWith('servers/server.')) return 'dispatch';
  if (at.startsWith('microkernel/links.') || at.startsWith('servers/retry.')) return 'continuation';
  if (fn === 'postMessage' && url === '') return 'post';
  if (/^node:internal\/(per_context\/messageport|event_target|worker\/io)/.test(url)) return 'decode';
  if (/^node:internal\/(timers|process\/task_queues)|^node:async_hooks/.test(url) || fn === 'runMicrotasks') return 'wake-up';
  if (at.startsWith('servers/') || at.startsWith('wire/') || at.startsWith('monolithic/') || url === 'node:zlib' || fn === 'crc32') return 'server work';
  return 'other';
}

const IDLE = new Set(['(idle)', '(program)']);

/** One profile's summary: self time per function, the `n` largest. */
export function summariseProfile(file: string, n = 12): ThreadProfile {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map<number, number>();
  p.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const self = new Map<string, { fn: string; at: string; us: number }>();
  let total = 0;
  let idle = 0;
  const stages = Object.fromEntries(STAGES.map((x) => [x, 0])) as Record<Stage, number>;
  for (const node of p.nodes) {
    const us = byNode.get(node.id) ?? 0;
    total += us;
    const fn = node.callFrame.functionName || '(anonymous)';
    if (IDLE.has(fn)) idle += us;
    else if (fn !== '(root)' && us > 0) stages[stageOf(fn, node.callFrame.url, node.callFrame.lineNumber)] += us;
    const at = node.callFrame.url ? `${node.callFrame.url.replace(/^.*\/(dist|src|node_modules)\//, '$1/')}:${node.callFrame.lineNumber + 1}` : '';
    const key = `${fn} ${at}`;
    const e = self.get(key) ?? { fn, at, us: 0 };
    e.us += us;
    self.set(key, e);
  }
  const busy = Math.max(1, total - idle);
  const urls = p.nodes.map((x) => x.callFrame.url).join(' ');
  // every server domain loads every server's module: it is the one whose handlers took the time
  const serverTime = (name: string) => [...self.values()].filter((e) => e.at.includes(`servers/${name}.js`)).reduce((t, e) => t + e.us, 0);
  const busiest = ['disk', 'net', 'app'].sort((a, b) => serverTime(b) - serverTime(a))[0];
  const thread = /microkernel\/worker\.js/.test(urls)
    ? `the ${busiest} server's domain`
    : /harness\/monolithic-host\.js/.test(urls)
      ? 'the monolith (one domain)'
      : /cli\.js/.test(urls)
        ? 'the harness (clients, supervisor)'
        : 'another thread';
  const top = [...self.values()]
    .filter((e) => !IDLE.has(e.fn) && e.fn !== '(root)' && e.us > 0)
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((e) => ({ fn: e.fn, at: e.at, ms: Math.round(e.us / 100) / 10, share: Math.round((e.us / busy) * 1000) / 1000 }));
  return { file, thread, sampledMs: Math.round(total / 1000), busyShare: Math.round(((total - idle) / Math.max(1, total)) * 1000) / 1000, top, stages };
}

/** A label's profiled run: every thread's summary, and what the run counted. */
export interface LabelProfile {
  threads: ThreadProfile[];
  requests: number;
  /** IPC messages the run counted (0 in the monolith). */
  messages: number;
}

/**
 * One message's host cost by stage, and a request's: the self time of each
 * stage summed over the kernel's threads (the harness left out), per request
 * and per IPC message (host-measured, sampled; start-up left out of both).
 */
export function breakdown(p: LabelProfile): { stage: Stage; usPerRequest: number; usPerMessage: number | null }[] {
  const kernel = p.threads.filter((t) => !t.thread.startsWith('the harness') && t.stages);
  return STAGES.filter((s) => s !== 'start-up').map((stage) => {
    const us = kernel.reduce((n, t) => n + t.stages[stage], 0);
    return { stage, usPerRequest: us / Math.max(1, p.requests), usPerMessage: p.messages > 0 ? us / p.messages : null };
  });
}

/** Run `label` under --cpu-prof into `dir`, and summarise every thread's profile. */
export function profileLabel(root: string, dir: string, label: string, requests: number): LabelProfile {
  const [mode, transport, signal] = label.split(':');
  const flags = mode === 'monolithic' ? ['--mode', 'monolithic'] : ['--mode', 'microkernel', ...(transport ? ['--transport', transport] : []), ...(signal ? ['--signal', signal] : [])];
  const out = join(dir, label.replace(/:/g, '-'));
  mkdirSync(out, { recursive: true });
  // the CLI's per-file entry (dist/cli.js is one bundled file), as MICROLITH_UNBUNDLED=1 starts the domains, so that
  // every function keeps its own file in the profiles
  const cli = existsSync(join(root, 'dist/cli-unbundled.js')) ? 'dist/cli-unbundled.js' : 'dist/cli.js';
  const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${out}`, cli, 'run', '--workload', 'specweb96', '--clients', '64', '--requests', String(requests), '--quiet', '--json', ...flags], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', MICROLITH_UNBUNDLED: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`profile ${label}: microlith run exited ${r.status}: ${r.stderr.trim()}`);
  const report = JSON.parse(r.stdout) as { counters: { ipcMessages: number } };
  const threads = readdirSync(out)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summariseProfile(join(out, f)));
  return { threads, requests, messages: report.counters.ipcMessages };
}

/** Profile each label and write the summaries (and keep the profiles) under `dir`. */
export function profileCpu(root: string, dir: string, labels: string[], requests: number): void {
  const summary: Record<string, LabelProfile & { breakdown: ReturnType<typeof breakdown> }> = {};
  for (const label of labels) {
    const prof = profileLabel(root, dir, label, requests);
    const threads = prof.threads;
    const stages = breakdown(prof);
    summary[label] = { ...prof, breakdown: stages };
    console.log(`\n${label}: ${requests} specweb96 requests, 64 clients; self time per thread (host-measured, sampled by V8)`);
    for (const t of threads) {
      console.log(`  ${t.thread}: ${t.sampledMs} ms sampled, ${Math.round(t.busyShare * 100)}% busy`);
      for (const f of t.top.slice(0, 8)) console.log(`    ${String(f.ms.toFixed(1)).padStart(8)} ms  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.fn}  ${f.at}`);
    }
    const perMsg = prof.messages > 0;
    console.log(`  by stage, summed over the kernel's threads (host-measured, sampled; start-up left out)${perMsg ? `, over ${prof.messages} IPC messages` : ''}:`);
    console.log(`    ${'stage'.padEnd(14)}${'µs per request'.padStart(16)}${perMsg ? 'µs per message'.padStart(16) : ''}`);
    for (const x of stages) console.log(`    ${x.stage.padEnd(14)}${x.usPerRequest.toFixed(2).padStart(16)}${x.usPerMessage === null ? '' : x.usPerMessage.toFixed(2).padStart(16)}`);
    const total = stages.reduce((n, x) => n + x.usPerRequest, 0);
    console.log(`    ${'all'.padEnd(14)}${total.toFixed(2).padStart(16)}${perMsg ? ((total * requests) / prof.messages).toFixed(2).padStart(16) : ''}`);
  }
  const file = join(dir, 'profile-summary.json');
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), kind: 'bench-profile-cpu', requests, labels, summary }, null, 2));
  console.log(`\nprofiles and ${file} written (open a .cpuprofile in Chrome DevTools' Performance panel or speedscope)`);
}
