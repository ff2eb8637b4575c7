/**
 * Pricing: the counted events of a run times a profile's costs. Nothing here is
 * measured; every figure is labelled "modelled (PROFILE)" where it is shown.
 *
 * Per request (events / completed requests), in µs of processor time:
 *   app              appRequests × appRequestUs
 *   copies           bytesCopied / 1024 × copyUsPerKiB × ipcCopiesPerMessage (microkernel;
 *                    × 1 in the monolith, which counts no copies)
 *   checksums        (bytesChecksummed + rxBytesChecksummed) / 1024 × checksumUsPerKiB
 *   ipc              ipcMessages × max(0, ipcOneWayUs − ipcEntryUs − contextSwitchUs)
 *   contextSwitches  crossings × contextSwitchUs
 *   syscalls         syscalls × syscallUs (monolithic) or × ipcEntryUs (microkernel:
 *                    each message is one kernel entry)
 *   frames           (framesSent + framesReceived) × frameUs
 *   wire             payloadBytes / 1024 × wireUsPerKiB + bytesReceived / 1024 ×
 *                    wireRequestUsPerKiB (the simulated clients, on the host only)
 * and of disk time:
 *   disk             diskSeeks × (diskPositionMs + diskRotationMs)
 *                    + (diskBlocksRead + diskBlocksWritten) × 4 KiB at diskTransferMBps
 *
 * So a microkernel message costs exactly ipcOneWayUs when that exceeds entry +
 * switch, split into its parts, plus its payload's copies. bytesCopied counts
 * each byte the simulator's IPC carries by value once per message (the
 * structured clone of the copy transport, and of views outside the pool under
 * shared); ipcCopiesPerMessage says how often the modelled kernel copies such a
 * byte: twice through a kernel buffer (Mach, pipes), once straight between
 * address spaces (L3, L4, seL4). The counters do not tell these bytes from two
 * other kinds, which are therefore priced the same way and overestimated:
 * transfer's copy-out of a block the sender keeps (one copy whatever the
 * kernel, so too dear under a two-copy profile), and ring signalling's copy
 * into the ring and out of it (bytesCopied is twice the payload there).
 *
 * Throughput is bounded by the busiest resource:
 * all processor time spread over min(cores, domains) processors, the busiest
 * single domain (a domain runs on one processor at a time), and the disk (a
 * device of its own, unless diskOnCpu puts its transfers on the disk server's
 * processor, as on the host, where the "disk" is memory).
 */
import type { CounterValues } from '../metrics/counters.js';
import type { Mode } from '../config.js';
import type { ServerName } from '../protocol.js';
import { BLOCK_SIZE } from '../servers/fs.js';
import type { ParamName, Profile } from './profile.js';

/** The parts processor time is priced in, in the order they are printed. */
export const CPU_PARTS = ['app', 'copies', 'checksums', 'ipc', 'contextSwitches', 'syscalls', 'frames', 'wire'] as const;
/** One part of the priced processor time (one of CPU_PARTS). */
export type CpuPart = (typeof CPU_PARTS)[number];

/** A run's counted events priced by a cost profile: modelled µs per request by part and by domain, the bottleneck and the modelled throughput. Modelled, not measured. */
export interface Modelled {
  /** Always "modelled (PROFILE)": these figures are priced, not measured. */
  label: string;
  profile: string;
  /** Modelled µs per completed request, by what it is spent on (disk is device time). */
  perRequestUs: Record<CpuPart | 'disk', number>;
  /** Processor µs per request, all domains together. */
  cpuUsPerRequest: number;
  /** Disk µs per request (device time, or processor time of the disk's domain if diskOnCpu). */
  diskUsPerRequest: number;
  /** Processor µs per request of each domain. */
  domainsUsPerRequest: Record<string, number>;
  /** What limits throughput: "processors", "domain NAME" or "disk". */
  bottleneck: string;
  /** Modelled requests per second: 10^6 / (µs per request of the bottleneck). */
  requestsPerSec: number;
}

/** The part of a message's price beyond its kernel entry and its switch (never negative). */
function ipcPartUs(p: Profile): number {
  const v = (n: ParamName) => p.params[n].value;
  return Math.max(0, v('ipcOneWayUs') - v('ipcEntryUs') - v('contextSwitchUs'));
}

/** Memory-to-memory copies per byte counted in bytesCopied: the kernel's IPC copies per message (the monolith counts none). */
function copiesPerByte(mode: Mode, p: Profile): number {
  return mode === 'monolithic' ? 1 : p.params.ipcCopiesPerMessage.value;
}

/** Processor µs of the events in `c` (all requests together), by part. */
export function priceCpu(c: CounterValues, mode: Mode, p: Profile): Record<CpuPart, number> {
  const v = (n: ParamName) => p.params[n].value;
  return {
    app: c.appRequests * v('appRequestUs'),
    copies: (c.bytesCopied / 1024) * copiesPerByte(mode, p) * v('copyUsPerKiB'),
    checksums: ((c.bytesChecksummed + c.rxBytesChecksummed) / 1024) * v('checksumUsPerKiB'),
    ipc: c.ipcMessages * ipcPartUs(p),
    contextSwitches: c.crossings * v('contextSwitchUs'),
    syscalls: c.syscalls * (mode === 'monolithic' ? v('syscallUs') : v('ipcEntryUs')),
    frames: (c.framesSent + c.framesReceived) * v('frameUs'),
    wire: (c.payloadBytes / 1024) * v('wireUsPerKiB') + (c.bytesReceived / 1024) * v('wireRequestUsPerKiB'),
  };
}

/** Disk µs of the events in `c`. */
export function priceDisk(c: CounterValues, p: Profile): number {
  const v = (n: ParamName) => p.params[n].value;
  const positioning = c.diskSeeks * (v('diskPositionMs') + v('diskRotationMs')) * 1000;
  const transfer = ((c.diskBlocksRead + c.diskBlocksWritten) * BLOCK_SIZE) / v('diskTransferMBps'); // bytes / (MB/s) = µs
  return positioning + transfer;
}

/** What one short message costs, one way: kernel entry, a switch, and the transfer. */
export function messageUs(p: Profile): number {
  return p.params.ipcEntryUs.value + p.params.contextSwitchUs.value + ipcPartUs(p);
}

/**
 * A modelled IPC round trip (two messages) whose payloads the simulator copied
 * `bytesCopied` bytes for in all (counted as in a run): each byte copied
 * ipcCopiesPerMessage times, as priceCpu prices a microkernel's copies.
 */
export function priceRoundTrip(p: Profile, bytesCopied: number): { label: string; roundTripUs: number } {
  const us = 2 * messageUs(p) + (bytesCopied / 1024) * copiesPerByte('microkernel', p) * p.params.copyUsPerKiB.value;
  return { label: `modelled (${p.name})`, roundTripUs: Math.round(us * 1000) / 1000 };
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/**
 * Price a run: its counters per server, which domain each server ran in, and
 * how many requests completed.
 */
export function price(
  profile: Profile,
  mode: Mode,
  byServer: Record<ServerName, CounterValues>,
  domains: ReadonlyArray<{ name: string; servers: readonly ServerName[] }>,
  completed: number,
): Modelled {
  const per = (x: number) => (completed > 0 ? x / completed : 0);
  const parts = Object.fromEntries([...CPU_PARTS, 'disk'].map((k) => [k, 0])) as Record<CpuPart | 'disk', number>;
  const domainsUs: Record<string, number> = {};
  const diskOnCpu = profile.params.diskOnCpu.value === 1;
  for (const d of domains) {
    let us = 0;
    for (const s of d.servers) {
      const cpu = priceCpu(byServer[s], mode, profile);
      for (const k of CPU_PARTS) parts[k] += cpu[k];
      us += sum(cpu);
      const disk = priceDisk(byServer[s], profile);
      parts.disk += disk;
      if (diskOnCpu) us += disk;
    }
    domainsUs[d.name] = per(us);
  }
  const perRequestUs = Object.fromEntries(Object.entries(parts).map(([k, x]) => [k, per(x)])) as Modelled['perRequestUs'];
  const cpuUsPerRequest = sum(Object.fromEntries(CPU_PARTS.map((k) => [k, perRequestUs[k]]))) + (diskOnCpu ? perRequestUs.disk : 0);
  const cores = Math.max(1, Math.min(profile.params.cores.value, domains.length));
  const limits: [string, number][] = [['processors', cpuUsPerRequest / cores]];
  if (domains.length > 1) {
    const [name, us] = Object.entries(domainsUs).reduce((a, b) => (b[1] > a[1] ? b : a));
    limits.push([`domain ${name}`, us]);
  }
  if (!diskOnCpu) limits.push(['disk', perRequestUs.disk]);
  const [bottleneck, us] = limits.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    label: `modelled (${profile.name})`,
    profile: profile.name,
    perRequestUs,
    cpuUsPerRequest,
    diskUsPerRequest: perRequestUs.disk,
    domainsUsPerRequest: domainsUs,
    bottleneck,
    requestsPerSec: us > 0 ? 1e6 / us : 0,
  };
}
