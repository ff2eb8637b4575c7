/**
 * The resolved configuration of one run: everything a kernel needs, defaults
 * filled in. It is printed in the run report as it is.
 */
import type { FaultPlan } from './servers/server.js';

export type Mode = 'monolithic' | 'microkernel';
export type Transport = 'copy' | 'transfer' | 'shared';
export const MODES: readonly Mode[] = ['monolithic', 'microkernel'];
export const TRANSPORTS: readonly Transport[] = ['copy', 'transfer', 'shared'];
/**
 * How a domain learns that a message is waiting: a MessagePort event per
 * message, MessagePort events carrying every frame a domain posted in one turn
 * of its event loop, or a shared-memory ring it polls.
 */
export type Signal = 'message' | 'batch' | 'ring';
export const SIGNALS: readonly Signal[] = ['message', 'batch', 'ring'];

/** A configuration that cannot run (bad usage, exit code 2). */
export class ConfigError extends Error {}

export interface KernelConfig {
  mode: Mode;
  /** How payloads cross domains (microkernel only; the monolith passes references). */
  transport: Transport;
  /** Disk buffer cache capacity, in 4 KiB blocks. */
  cacheBlocks: number;
  /** Frame size on the wire, bytes including 40 bytes of headers. */
  mtu: number;
  /** The NIC computes the Internet checksum, so the net server does not. */
  checksumOffload: boolean;
  /**
   * Slots of the shared buffer pool (4 KiB each; the `shared` transport): the
   * cache plus every block the clients can have in flight at once, so the cache
   * never runs out of pool slots.
   */
  poolBlocks: number;
  /** Signalling between domains (microkernel only). */
  signal: Signal;
  /**
   * With ring signalling: how long a domain keeps polling after its last
   * message before it sleeps, µs. 0 by default: on this 2-core machine with
   * three server domains, a spinning domain takes the core another one needs
   * (measured with `npm run bench -- --spin-sweep`; see the README).
   */
  spinUs: number;
  /** With ring signalling: bytes of each ring (one per direction of a channel), a power of two. */
  ringBytes: number;
  /** Deadline of every cross-domain call, milliseconds. */
  callTimeoutMs: number;
  /** A domain that does not answer the harness's heartbeat for this long is hung, milliseconds. */
  hangTimeoutMs: number;
  /** Crash a server on purpose (fault injection). */
  fault: FaultPlan | null;
}

export const DEFAULT_KERNEL_CONFIG: Omit<KernelConfig, 'mode'> = {
  transport: 'copy',
  cacheBlocks: 4096,
  poolBlocks: 4096,
  mtu: 1500,
  signal: 'message',
  spinUs: 0,
  ringBytes: 1 << 20,
  checksumOffload: false,
  callTimeoutMs: 10_000,
  hangTimeoutMs: 3_000,
  fault: null,
};
