/**
 * `npm run bench -- --only scale`: how each kernel scales with the run's size
 * and with its clients, on specweb96. Cells: 10^4, 10^5 and 10^6 requests with
 * 64 clients, and 8, 64, 512 and 2048 clients with 10^5 requests, each in the
 * monolith and in microkernel:shared (the 64-client, 10^5-request cell is in
 * both series and runs once). Per cell: host-measured throughput, busy µs per
 * request summed over the domains (host-measured), and the peak resident set
 * of the process that ran it. Each cell runs in a fresh node process
 * (bench/scale-cell.mjs), so its peak is its own; the two kernels alternate
 * cell by cell, so a drifting machine hits both alike.
 *
 * `--quick`: 10^4 and 10^5 requests, and the client series at 10^4 requests.
 * `--requests N`: N/100, N/10 and N requests, and the client series at N (a smoke run).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../dist/paths.js';
import type { RunReport } from '../dist/run.js';

/** A cell over this peak resident set is flagged. */
export const RSS_FLAG_MB = 400;

export const SCALE_KERNELS = ['monolithic', 'microkernel:shared'] as const;
export type ScaleKernel = (typeof SCALE_KERNELS)[number];

export interface ScaleCell {
  kernel: ScaleKernel;
  requests: number;
  clients: number;
  /** Which series it belongs to: requests grow (64 clients), clients grow (fixed requests), or both. */
  series: ('requests' | 'clients')[];
}

/** What one cell measured. */
export interface ScaleRow extends ScaleCell {
  /** Host-measured requests per second. */
  requestsPerSec: number;
  /** Busy µs per request, host-measured, summed over the kernel's domains. */
  busyUsPerRequest: number;
  /** Peak resident set of the cell's process, MB (host-measured, the whole process: harness and every domain thread). */
  peakRssMb: number;
  /** Resident set once the library was loaded, before the run, MB. */
  rssBeforeMb: number;
  elapsedMs: number;
  status: RunReport['status'];
  problems: string[];
  digest: string;
}

/** The request counts of the requests series, and the request count of the clients series. */
export function scaleSizes(quick: boolean, requestsOverride?: number): { requests: number[]; clientsAt: number; clients: number[] } {
  const clients = [8, 64, 512, 2048];
  if (requestsOverride !== undefined) {
    const n = requestsOverride;
    const requests = [...new Set([Math.ceil(n / 100), Math.ceil(n / 10), n].map((x) => Math.max(1, x)))];
    return { requests, clientsAt: n, clients };
  }
  return quick ? { requests: [10_000, 100_000], clientsAt: 10_000, clients } : { requests: [10_000, 100_000, 1_000_000], clientsAt: 100_000, clients };
}

/** Every cell, in the order they run: for each (requests, clients), the monolith then the microkernel. */
export function scaleCells(quick: boolean, requestsOverride?: number): ScaleCell[] {
  const { requests, clientsAt, clients } = scaleSizes(quick, requestsOverride);
  const points = new Map<string, { requests: number; clients: number; series: ('requests' | 'clients')[] }>();
  const add = (r: number, c: number, s: 'requests' | 'clients') => {
    const key = `${r}/${c}`;
    const p = points.get(key) ?? { requests: r, clients: c, series: [] };
    p.series.push(s);
    points.set(key, p);
  };
  for (const r of requests) add(r, 64, 'requests');
  for (const c of clients) add(clientsAt, c, 'clients');
  return [...points.values()].flatMap((p) => SCALE_KERNELS.map((kernel) => ({ kernel, ...p })));
}

/**
 * A domain silent to heartbeats this long is hung, in every cell (the default is
 * 3 s). The heartbeats are sent as often either way (every 500 ms). With more
 * clients than the app keeps receives posted (256), the monolith's one domain
 * went more than 3 s without answering one here, and a run of 10^5 requests was
 * ended as a hang after about 12,000: a cell measures throughput, not that.
 */
export const CELL_HANG_TIMEOUT_MS = 600_000;

/** The run options of a cell: specweb96 with the throughput comparison's buffer cache. */
export function cellOptions(c: ScaleCell): Record<string, unknown> {
  const kernel = c.kernel === 'monolithic' ? { mode: 'monolithic' } : { mode: 'microkernel', transport: 'shared' };
  return { workload: 'specweb96', requests: c.requests, clients: c.clients, cacheBlocks: 4096, hangTimeoutMs: CELL_HANG_TIMEOUT_MS, ...kernel };
}

// from the package root, not from this module: the build bundles it into bench/build/
const CELL = join(PACKAGE_ROOT, 'bench/scale-cell.mjs');

/** Run one cell in a fresh node process and read its line. */
export function runCell(c: ScaleCell): Promise<ScaleRow> {
  return new Promise((resolveRow, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // nothing preloaded: the peak is the cell's own
    const child = spawn(process.execPath, [CELL, JSON.stringify(cellOptions(c))], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      let parsed: { report: RunReport; rssBeforeMb: number; maxRssMb: number };
      try {
        parsed = JSON.parse(line);
      } catch {
        return reject(new Error(`scale cell ${c.kernel} ${c.requests} requests ${c.clients} clients exited ${code}: ${err.trim().split('\n').slice(-3).join(' / ') || 'no output'}`));
      }
      const r = parsed.report;
      resolveRow({
        ...c,
        requestsPerSec: r.throughput.requestsPerSec,
        busyUsPerRequest: r.domains.reduce((n, d) => n + (d.busyUsPerRequest ?? 0), 0),
        peakRssMb: parsed.maxRssMb,
        rssBeforeMb: parsed.rssBeforeMb,
        elapsedMs: r.elapsedMs,
        status: r.status,
        problems: r.problems,
        digest: r.digest,
      });
    });
  });
}

/**
 * Per kernel, busy µs per request at the largest request count over the
 * smallest (64 clients), and over the one before the largest, of the cells that
 * ended ok: about 1 when the cost per request stays flat as a run grows (the
 * smallest run also pays for warming up). `flat`: the first ratio within
 * ±`tolerance` (host-measured, so on a noisy machine a wider spread says little).
 */
export function costGrowth(
  rows: ScaleRow[],
  tolerance = 0.15,
): { kernel: ScaleKernel; from: number; to: number; ratio: number; flat: boolean; previous: number; ratioToPrevious: number }[] {
  return SCALE_KERNELS.flatMap((kernel) => {
    const series = rows.filter((r) => r.kernel === kernel && r.series.includes('requests') && r.status === 'ok').sort((a, b) => a.requests - b.requests);
    if (series.length < 2) return [];
    const lo = series[0];
    const prev = series[series.length - 2];
    const hi = series[series.length - 1];
    const ratio = hi.busyUsPerRequest / lo.busyUsPerRequest;
    return [{ kernel, from: lo.requests, to: hi.requests, ratio, flat: Math.abs(ratio - 1) <= tolerance, previous: prev.requests, ratioToPrevious: hi.busyUsPerRequest / prev.busyUsPerRequest }];
  });
}
