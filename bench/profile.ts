/**
 * `npm run bench -- --profile-cpu`: where each thread's time goes. Every label
 * runs once as `microlith run` under Node's `--cpu-prof`, which writes one V8
 * CPU profile per thread (the harness and every kernel domain), and each
 * profile is summarised: its thread, its total sampled time, and the functions
 * with the most self time (host-measured, sampled). The profiles are kept
 * beside the summary so they can be opened in Chrome DevTools or speedscope.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  for (const node of p.nodes) {
    const us = byNode.get(node.id) ?? 0;
    total += us;
    const fn = node.callFrame.functionName || '(anonymous)';
    if (IDLE.has(fn)) idle += us;
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
  return { file, thread, sampledMs: Math.round(total / 1000), busyShare: Math.round(((total - idle) / Math.max(1, total)) * 1000) / 1000, top };
}

/** Run `label` under --cpu-prof into `dir`, and summarise every thread's profile. */
export function profileLabel(root: string, dir: string, label: string, requests: number): ThreadProfile[] {
  const [mode, transport, signal] = label.split(':');
  const flags = mode === 'monolithic' ? ['--mode', 'monolithic'] : ['--mode', 'microkernel', ...(transport ? ['--transport', transport] : []), ...(signal ? ['--signal', signal] : [])];
  const out = join(dir, label.replace(/:/g, '-'));
  mkdirSync(out, { recursive: true });
  const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${out}`, 'dist/cli.js', 'run', '--workload', 'specweb96', '--clients', '64', '--requests', String(requests), '--quiet', ...flags], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (r.status !== 0) throw new Error(`profile ${label}: microlith run exited ${r.status}: ${r.stderr.trim()}`);
  return readdirSync(out)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summariseProfile(join(out, f)));
}

/** Profile each label and write the summaries (and keep the profiles) under `dir`. */
export function profileCpu(root: string, dir: string, labels: string[], requests: number): void {
  const summary: Record<string, ThreadProfile[]> = {};
  for (const label of labels) {
    const threads = profileLabel(root, dir, label, requests);
    summary[label] = threads;
    console.log(`\n${label}: ${requests} specweb96 requests, 64 clients; self time per thread (host-measured, sampled by V8)`);
    for (const t of threads) {
      console.log(`  ${t.thread}: ${t.sampledMs} ms sampled, ${Math.round(t.busyShare * 100)}% busy`);
      for (const f of t.top.slice(0, 8)) console.log(`    ${String(f.ms.toFixed(1)).padStart(8)} ms  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.fn}  ${f.at}`);
    }
  }
  const file = join(dir, 'profile-summary.json');
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), kind: 'bench-profile-cpu', requests, labels, summary }, null, 2));
  console.log(`\nprofiles and ${file} written (open a .cpuprofile in Chrome DevTools' Performance panel or speedscope)`);
}
