/**
 * The resolved configuration of one run: everything a kernel needs, defaults
 * filled in. It is printed in the run report as it is.
 */
import type { FaultSpec } from './faults/plan.js';
import type { ServerName } from './protocol.js';
import type { ServeSpec } from './wire/socket.js';

/** Which kernel runs the servers: one domain for everything, or one domain (thread) per server. */
export type Mode = 'monolithic' | 'microkernel';
/**
 * How the microkernel moves payloads between domains: a structured clone of
 * the message, the ArrayBuffer itself moved (transferred), or a descriptor into
 * a buffer pool in shared memory.
 */
export type Transport = 'copy' | 'transfer' | 'shared';
/** Every mode, the monolith first. */
export const MODES: readonly Mode[] = ['monolithic', 'microkernel'];
/** Every transport, copy (the default) first. */
export const TRANSPORTS: readonly Transport[] = ['copy', 'transfer', 'shared'];
/**
 * How a domain learns that a message is waiting: a MessagePort event per
 * message, MessagePort events carrying every frame a domain posted in one turn
 * of its event loop, or a shared-memory ring it polls.
 */
export type Signal = 'message' | 'batch' | 'ring';
/** Every kind of signalling, message (the default) first. */
export const SIGNALS: readonly Signal[] = ['message', 'batch', 'ring'];

/** Names an option for a reader: the library's field name, or the CLI's flag. */
export type OptionNamer = (field: string, value?: string) => string;

/** The library names options as fields: `mode`, or `mode: 'microkernel'` with a value. */
export const fieldName: OptionNamer = (field, value) => (value === undefined ? field : `${field}: '${value}'`);

/** What a ConfigError says of its option: the reason, the value given, and a fix where there is one. */
export interface ConfigProblem {
  /** What is wrong, e.g. "must be an integer from 1 to 4096" or "applies to the microkernel only". */
  reason: string;
  /** The value given, echoed as given. */
  given?: unknown;
  /** What to write instead: alternatives, each a set of option values. */
  fix?: Record<string, string>;
}

/**
 * A configuration that cannot run (bad usage, exit code 2): the option at fault
 * (`field`, dotted for nested ones), what is wrong with it, and what to write
 * instead where there is one answer.
 */
export class ConfigError extends Error {
  readonly field: string;
  readonly reason: string;
  readonly given: unknown;
  readonly fix: Record<string, string> | undefined;

  constructor(field: string, problem: ConfigProblem) {
    super('');
    this.name = 'ConfigError';
    this.field = field;
    this.reason = problem.reason;
    this.given = problem.given;
    this.fix = problem.fix;
    this.message = this.describe(fieldName);
  }

  /** The message, with every option named by `name` (the CLI names them as flags). */
  describe(name: OptionNamer): string {
    const given = this.given === undefined ? '' : `, got ${typeof this.given === 'string' ? `'${this.given}'` : JSON.stringify(this.given) ?? String(this.given)}`;
    const fix = this.fix
      ? `: use ${Object.entries(this.fix)
          .map(([f, v]) => name(f, v))
          .join(' and ')}`
      : '';
    // a reason names other options as {field}
    const reason = this.reason.replace(/\{([A-Za-z.]+)\}/g, (_, f: string) => name(f));
    return `${name(this.field)} ${reason}${given}${fix}`;
  }
}

/** The resolved configuration of one run, every default filled in; the run report prints it as it is. */
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
  /** Faults to inject on purpose (fault injection), in any order. */
  faults: FaultSpec[];
  /**
   * The supervisor's restart intensity (OTP's MaxR and MaxT): a server that
   * needs more than `maxRestarts` restarts within `restartWindowMs` is given up,
   * and calls to it then fail fast with ESERVERFAILED (microkernel only).
   */
  maxRestarts: number;
  restartWindowMs: number;
  /**
   * Microkernel only: the module file (a path, absolute or relative to the
   * working directory) whose export `policy` decides restarts instead of the
   * shipped one (see microkernel/policy-module.ts). Not set: the shipped policy.
   */
  restartPolicy?: string;
  /**
   * Receives the app keeps posted at net: how many requests it serves at once.
   * Requests beyond that wait in net's queue, as in a listen backlog.
   */
  receives: number;
  /** JS heap limit of each domain, MiB: past it the domain dies out of memory (the harness survives). */
  heapLimitMb: number;
  /**
   * An extension point (`--server-module NAME=FILE`): boot a server from the module file at this
   * path (absolute, or relative to the working directory) instead of the
   * shipped one, in either kernel. The file's default or named export `server`
   * must be a ServerModule named for the server it replaces (checked at load;
   * see `loadServerModule` in boot.ts). A `.ts` file loads through tsx. Empty
   * by default: every server is the shipped one.
   */
  serverModules: Partial<Record<ServerName, string>>;
  /**
   * Microkernel only: payloads cross through the transport in this module
   * file (a path, absolute or relative to the working directory; `.ts` loads
   * through tsx) instead of `transport`, which is then 'copy' (the
   * default): the file's default or named export `transport` is a
   * TransportModule (grants and safecopy; see microkernel/transport-module.ts),
   * checked at load. Not set: the `transport` given.
   */
  transportModule?: string;
  /**
   * `serve` only: net's device is a socket serving real HTTP clients, here
   * (see wire/socket.ts), instead of the simulated clients' NIC.
   */
  serve?: ServeSpec;
}

/** The kernel configuration's defaults (all but the mode), which run()'s options fill in for options not given. */
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
  faults: [],
  maxRestarts: 3,
  restartWindowMs: 5_000,
  heapLimitMb: 256,
  receives: 64,
  serverModules: {},
};
