/**
 * The simulated wire: closed-loop clients that send the workload's requests to
 * the net server and take its frames off the wire. A device, not a server: the
 * kernel hands it to the net server in the net server's own domain.
 *
 * Each response is hashed (CRC-32 over request id, status and every payload
 * byte, in order) and folded into the run digest by addition, so the digest does
 * not depend on the order in which responses complete.
 */
import { crc32 } from 'node:zlib';
import type { Reply } from '../protocol.js';
import type { Frame, NetDevice } from '../servers/net.js';
import { LatencyRecorder, type LatencySummary } from '../metrics/latency.js';
import { REG, type Registers } from './registers.js';

/** The clients let their domain's event loop turn at least this often, ms. */
const YIELD_EVERY_MS = 5;

/** How the device hands a request to the net server (NET_RECV). */
export type Deliver = (reqId: number, request: string) => Promise<Reply<{ status: number }>>;

export interface ClientPlan {
  requests: number;
  clients: number;
  /** The request line of the next request (called in request-id order). */
  next: () => string;
}

export interface WireResult {
  elapsedMs: number;
  latencyUs: LatencySummary;
}

/** Outcome of one request, from the net server's reply. */
export function classify(r: Reply<{ status: number }>): 'ok' | 'fail' | 'info' {
  if (r.ok) return r.value.status >= 500 ? 'fail' : 'ok';
  return r.errno === 'EPEERDIED' || r.errno === 'ETIMEDOUT' ? 'info' : 'fail';
}

export class SimulatedWire implements NetDevice {
  constructor(private readonly regs: Registers) {}

  /** NetDevice: a response's frames arrive at the client. */
  transmit(reqId: number, status: number, frames: Frame[]): void {
    let h = crc32(`${reqId} ${status}`);
    for (const f of frames) for (const s of f.segments) h = crc32(s, h);
    const r = this.regs;
    Atomics.store(r, REG.digestSum, (Atomics.load(r, REG.digestSum) + h) | 0);
    Atomics.store(r, REG.digestMix, (Atomics.load(r, REG.digestMix) + Math.imul(h ^ 0x9e3779b9, 0x85ebca6b)) | 0);
    Atomics.add(r, REG.responses, 1);
  }

  /** Run the closed loop: `clients` clients send requests back to back until `requests` were sent. */
  async run(plan: ClientPlan, deliver: Deliver): Promise<WireResult> {
    const r = this.regs;
    const latency = new LatencyRecorder();
    let nextId = 0;
    // In a kernel whose calls are all direct (the monolith) the clients would run
    // on microtasks alone and never let the event loop turn, so the domain could
    // not answer its heartbeat: every few ms all clients wait for one turn.
    let gate: Promise<void> | null = null;
    let lastTurn = performance.now();
    const turn = async () => {
      if (!gate && performance.now() - lastTurn > YIELD_EVERY_MS) {
        gate = new Promise((res) => setImmediate(res)).then(() => {
          gate = null;
          lastTurn = performance.now();
        });
      }
      if (gate) await gate;
    };
    const client = async () => {
      while (nextId < plan.requests && Atomics.load(r, REG.stop) === 0) {
        await turn();
        if (nextId >= plan.requests || Atomics.load(r, REG.stop) !== 0) break;
        const id = nextId++;
        const line = plan.next();
        Atomics.add(r, REG.issued, 1);
        const t0 = performance.now();
        let outcome: 'ok' | 'fail' | 'info';
        try {
          outcome = classify(await deliver(id, line));
        } catch {
          outcome = 'info'; // the domain panicked under this request
        }
        latency.record((performance.now() - t0) * 1000);
        Atomics.add(r, REG[outcome], 1);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: Math.min(plan.clients, plan.requests) }, client));
    return { elapsedMs: performance.now() - t0, latencyUs: latency.summary() };
  }
}
