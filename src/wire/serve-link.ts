/**
 * The harness's end of the link to the socket device (socket.ts), for
 * `serve`: it survives the net server's restarts, as the clients' end of the
 * simulated wire does (link.ts).
 *
 * It tells each incarnation's device to listen (on the port the first one
 * bound, so clients reconnect where they were), keeps what the devices served
 * (latency, as they tell it; statuses, body bytes and connection events, from
 * the served tally in the registers, which outlives a device that died
 * mid-answer), and on stop asks the device to
 * finish what is in flight and take nothing new. When a net server dies, the
 * requests its device had in the kernel are settled here as reset: their
 * connections went down with it.
 */
import type { PortLike } from '../microkernel/ipc.js';
import { BatchingPort } from '../microkernel/batch.js';
import { LatencyRecorder, type LatencySummary } from '../metrics/latency.js';
import { REG, ServedTally, type Registers } from './registers.js';
import type { DeviceLink } from './link.js';
import { HTTP_EVENTS, type HttpEvent, type ServeSpec, type SocketFrame } from './socket.js';

/** What the clients of `serve` got, as the socket devices saw it (host-measured times). */
export interface HttpReport {
  /** Where it listened. */
  url: string;
  /** Requests served, by status code. */
  statuses: Record<string, number>;
  /** Body bytes sent. */
  bodyBytes: number;
  /** Connection and parser events, outside the kernel's counters (see HTTP_EVENTS). */
  events: Record<HttpEvent, number>;
  /** Times the net server's socket was bound (1 + the restarts of net that listened again). */
  listens: number;
}

export class ServeLink implements DeviceLink {
  private port: BatchingPort | null = null;
  private state: 'down' | 'up' | 'failed' = 'down';
  private stopping = false;
  private bound: { host: string; port: number } | null = null;
  private drained: (() => void) | null = null;
  private closing: (() => void) | null = null;
  private onDown!: () => void;
  private onListening!: (a: { host: string; port: number }) => void;
  private onListenError!: (e: Error) => void;
  readonly latency = new LatencyRecorder();
  /** What the devices served: in the registers, where it outlives a device that died. */
  private readonly tally: ServedTally;
  listens = 0;
  /** Requests whose connection went down with a net server (or the system). */
  resets = 0;
  /** Resolves when nothing will serve again (a panic, or the supervisor gave up on net). */
  readonly down = new Promise<void>((res) => (this.onDown = res));
  /** The first incarnation's socket is bound; rejects if it could not be. */
  readonly listening = new Promise<{ host: string; port: number }>((res, rej) => {
    this.onListening = res;
    this.onListenError = rej;
  });

  constructor(
    /** The device's spec, whose port 0 becomes the port bound first. */
    private readonly spec: ServeSpec,
    private readonly regs: Registers,
  ) {
    this.tally = new ServedTally(regs);
    void this.listening.catch(() => {});
  }

  attach(raw: PortLike): void {
    if (this.state === 'failed' || this.stopping) {
      raw.close();
      return;
    }
    const port = new BatchingPort(raw);
    this.port = port;
    this.state = 'up';
    port.on('message', (v) => this.receive(v as SocketFrame));
    port.on('close', () => this.lost(port));
    port.postMessage({ k: 'listen', again: this.bound !== null } satisfies SocketFrame);
  }

  fail(): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.port = null;
    this.settleInFlight();
    this.drained?.();
    this.closing?.();
    this.onListenError(new Error('the system went down before it listened'));
    this.onDown();
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Take no new connections; resolves when the responses in flight are done (or there is no device to wait for). */
  stop(): Promise<void> {
    this.stopping = true;
    if (this.state !== 'up' || !this.port) return Promise.resolve();
    return new Promise((res) => {
      this.drained = () => {
        this.drained = null;
        res();
      };
      this.port!.postMessage({ k: 'stop' } satisfies SocketFrame);
    });
  }

  /** The wire closed: net's waiting receives end. Resolves when it has, or when there is no net. */
  close(): Promise<void> {
    if (this.state !== 'up' || !this.port) return Promise.resolve();
    return new Promise((res) => {
      this.closing = () => {
        this.closing = null;
        res();
      };
      this.port!.postMessage({ k: 'close' } satisfies SocketFrame);
    });
  }

  detach(): void {
    this.port?.close();
    this.port = null;
    if (this.state === 'up') this.state = 'down';
  }

  report(): HttpReport {
    const b = this.bound ?? { host: this.spec.host, port: this.spec.port };
    const { statuses, events: counts, bodyBytes } = this.tally.read();
    const events = Object.fromEntries(HTTP_EVENTS.map((e, i) => [e, counts[i]])) as Record<HttpEvent, number>;
    // and the requests whose connections went down with a net server, which no device lived to see
    events.reset += this.resets;
    return { url: urlOf(b.host, b.port), statuses, bodyBytes, events, listens: this.listens };
  }

  latencySummary(): LatencySummary {
    return this.latency.summary();
  }

  private receive(f: SocketFrame): void {
    switch (f.k) {
      case 'listening':
        this.listens++;
        if (!this.bound) {
          this.bound = { host: f.host, port: f.port };
          // later incarnations listen where the clients already connect
          this.spec.port = f.port;
          this.onListening(this.bound);
        }
        return;
      case 'error':
        this.onListenError(new Error(f.message));
        return;
      case 'served':
        this.latency.record(f.us);
        return;
      case 'drained':
        this.drained?.();
        return;
      case 'closed':
        this.closing?.();
        return;
    }
  }

  /** The device's domain died (net crashed): what it had in the kernel went with its connections. */
  private lost(port: PortLike): void {
    if (port !== this.port) return;
    this.port = null;
    if (this.state === 'up') this.state = 'down';
    this.settleInFlight();
    // a stopping server's next incarnation does not listen: there is nothing left to drain
    this.drained?.();
    this.closing?.();
  }

  /** Requests issued and not settled by a device that is gone: their connections were reset. */
  private settleInFlight(): void {
    const r = this.regs;
    const open = Atomics.load(r, REG.issued) - Atomics.load(r, REG.ok) - Atomics.load(r, REG.fail) - Atomics.load(r, REG.info);
    if (open <= 0) return;
    Atomics.add(r, REG.info, open);
    this.resets += open;
  }
}

/** http://HOST:PORT/, with an IPv6 host in brackets. */
export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}
