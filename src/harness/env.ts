/**
 * What the harness gives a kernel it boots: the configuration, the machine, the
 * memory it owns and shares with the kernel (the wire's registers, the fault
 * board), and the harness's end of the link to net's device (the simulated
 * clients' NIC, or the socket of `serve`).
 */
import type { KernelConfig } from '../config.js';
import type { Machine } from '../boot.js';
import type { FaultBoard } from '../faults/inject.js';
import type { DeviceLink } from '../wire/link.js';
import type { Registers } from '../wire/registers.js';
import type { ServerName } from '../protocol.js';
import type { TraceSettings } from '../trace/types.js';

export interface KernelEnv {
  cfg: KernelConfig;
  machine: Machine;
  regs: Registers;
  board: FaultBoard;
  link: DeviceLink;
  /** ms since the clients started (host-measured; 0 before). */
  sinceStart(): number;
  /**
   * The latest planned fault of `server` that has struck, can kill (not a lost
   * write, and in a microkernel not a garbage reply, which its endpoints
   * refuse) and is not yet blamed for a failure (its index), or null: the
   * failure the kernel just noticed is then blamed on it. `null`: of any
   * server, garbage included (in the monolith a fault in one server can
   * surface as a panic in another).
   */
  lastStruck(server: ServerName | null): number | null;
  /** Trace the sampled requests in every domain (absent or null: no tracing). */
  trace?: TraceSettings | null;
}
