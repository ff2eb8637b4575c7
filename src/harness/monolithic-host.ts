/**
 * The thread the monolithic kernel runs in. The kernel is one domain; running it
 * off the harness's thread keeps the harness outside its fault domain: a panic
 * stops this thread (as a panic halts a machine), and the harness notices; if a
 * server hangs the kernel, the harness notices the missed heartbeats. Either
 * way it still reads the counters and registers it shares with the kernel.
 */
import { MonolithicKernel } from '../monolithic/kernel.js';
import type { KernelConfig } from '../config.js';
import type { Machine } from '../boot.js';
import type { ServerName } from '../protocol.js';
import { registersOver } from '../wire/registers.js';
import { faultBoardOver } from '../faults/inject.js';
import { crashDomain, domainBoot, serveControl, type Port } from './domain.js';
import type { TraceRecord, TraceSettings } from '../trace/types.js';

export interface MonolithicBoot {
  cfg: KernelConfig;
  machine: Machine;
  regs: SharedArrayBuffer;
  board: Float64Array;
  slabs: Record<ServerName, SharedArrayBuffer>;
  running: SharedArrayBuffer;
  /** The NIC's end of the link to the wire's clients. */
  nic: Port;
  /** Trace the sampled requests (null: no tracing). */
  trace: TraceSettings | null;
}

export interface MonolithicControl {
  ping(): true;
  /** Run the servers' loops; resolves when they ended. */
  start(): Promise<void>;
  /** The first calls the kernel refused for want of a grant. */
  denied(): string[];
  /** What the kernel traced (empty unless tracing), handed over at the end of the run. */
  trace(): TraceRecord[];
}

/** What a panic leaves in the crash note: JSON, so the harness can name the server. */
export interface PanicNote {
  panic: ServerName;
  message: string;
}

const data = domainBoot<MonolithicBoot>();

/**
 * Boot the kernel and make the harness's control of it. Modules placed for some
 * servers load first; a module that does not load rejects this, which ends the
 * thread with the reason (an unhandled rejection is the thread's uncaught error),
 * before the harness's first ping is answered. A function, not a top-level await:
 * the domain's bundle is CommonJS (scripts/bundle-domains.mjs says why).
 */
async function boot(): Promise<MonolithicControl> {
  const kernel = await MonolithicKernel.boot(
    data.cfg,
    data.machine,
    registersOver(data.regs),
    faultBoardOver(data.board),
    data.nic,
    // a panic halts the machine: the whole domain stops at once
    (p) => crashDomain(JSON.stringify({ panic: p.server, message: p.message } satisfies PanicNote)),
    { slabs: data.slabs, running: new Int32Array(data.running) },
    data.trace,
  );
  return {
    ping: () => true,
    start: () => kernel.start(),
    denied: () => [...kernel.denied],
    trace: () => kernel.trace(),
  };
}

void boot().then(serveControl);
