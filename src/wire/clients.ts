/**
 * The simulated wire: the workload's clients (a closed loop, or open-loop
 * arrivals at a rate) that send requests to the net server and take its frames
 * off the wire. A device, not a server: the kernel hands it to the net server in
 * the net server's own domain.
 *
 * The clients are other machines: they run in the harness, outside every fault
 * domain, and reach the net server's NIC over a link (wire/link.ts).
 *
 * A request's outcome is what reached the client: the status of the response
 * whose frames arrived, or, if none did, what the net server's reply says. Each
 * response is hashed (CRC-32 over request id, status and every payload byte, in
 * order) as its frames leave the NIC, and the hash is folded into the run
 * digest by addition when the request settles `ok`: so the digest does not
 * depend on the order in which responses complete, and it holds exactly the
 * requests counted ok (a 5xx response is a failure, not an answer to compare
 * across kernels).
 *
 * A request whose connection was reset (the net server died holding it) is
 * sent again if it is a read, which is safe to repeat, up to RESEND_READS
 * times; a write is not, because a late repeat could land after a later write
 * to the same bytes: its outcome is unknown.
 */
import type { Reply } from '../protocol.js';
import type { LinkAnswer } from './link.js';
import { LatencyRecorder, type LatencySummary } from '../metrics/latency.js';
import { OkTimeline } from '../metrics/timeline.js';
import seedrandom from 'seedrandom';
import { ledgerOf, LEDGER, REG, type Registers } from './registers.js';
import type { RunPlan } from '../kernel.js';
import { RequestStream, type Request } from '../workload/generate.js';
import type { Arrival } from '../workload/schema.js';
import { hostClock, LATE_MS, waitUntil, type Pacing, type WireClock } from './pacing.js';

/** The clients let their domain's event loop turn at least this often, ms. */
const YIELD_EVERY_MS = 5;

/** How the clients send request `id` (its line, and the data a WRITE carries) to the net server's NIC. */
export type Deliver = (id: number, req: Request, again: boolean) => Promise<LinkAnswer>;

/** How often a client sends a read again after its connection was reset. */
export const RESEND_READS = 3;

export interface ClientPlan {
  /** Requests to send (an upper bound when `durationMs` is set). */
  requests: number;
  /** Closed-loop clients. */
  clients: number;
  arrival: Arrival;
  /** Stop sending new requests this long after the first. */
  durationMs?: number;
  /** The next request (called in request-id order). */
  next: () => Request;
  /** Seeded uniform [0, 1) numbers for open-loop inter-arrival times. */
  random: () => number;
}

/** The clients' plan for a workload run. */
export function clientPlan(plan: RunPlan): ClientPlan {
  const stream = new RequestStream(plan.workload);
  return {
    requests: plan.requests,
    clients: plan.clients,
    arrival: plan.workload.arrival,
    durationMs: plan.workload.durationMs,
    next: () => stream.next(),
    random: seedrandom(`${plan.workload.seed}:arrivals`),
  };
}

export interface WireResult {
  elapsedMs: number;
  latencyUs: LatencySummary;
  /** Why the clients stopped sending: all requests sent, the duration ran out, or the kernel said stop. */
  endedBy: 'requests' | 'duration' | 'stop';
  /** The open loop's schedule as kept; null for a closed loop. */
  pacing: Pacing | null;
  /** Reads sent again after their connection was reset. */
  resent: number;
  /** Requests ended ok per second in the second half of the elapsed time (host-measured), null for a run under 2 ms. */
  secondHalfOkPerSec: number | null;
}

/** What the ledger records of a request answered with `status` on the wire. */
function statusCode(s: number): number {
  return s >= 500 ? LEDGER.failed : s >= 200 && s < 300 ? LEDGER.done : LEDGER.refused;
}

/** A request that ended with one of these may or may not have been done. */
const UNKNOWN_ERRNOS: ReadonlySet<string> = new Set(['EPEERDIED', 'ETIMEDOUT', 'ECONNRESET', 'ESHUTDOWN']);

/** What the ledger records of a settled request, from the net server's reply. */
function ledgerCode(r: Reply<{ status: number }>): number {
  if (!r.ok) return UNKNOWN_ERRNOS.has(r.errno) ? LEDGER.unknown : LEDGER.failed;
  return statusCode(r.value.status);
}

/**
 * What the ledger records of a settled request: the status of its response if
 * one reached the wire (the client has it, whatever became of the reply inside
 * the kernel); else what the reply says, where an `ok` reply without a response
 * on the wire, or no reply at all (the domain panicked), is unknown.
 */
function settledCode(answered: number | undefined, r: Reply<{ status: number }> | null): number {
  if (answered !== undefined) return statusCode(answered);
  if (r === null || r.ok) return LEDGER.unknown;
  return ledgerCode(r);
}

const OUTCOME_OF_CODE: Record<number, 'ok' | 'fail' | 'info'> = {
  [LEDGER.done]: 'ok',
  [LEDGER.refused]: 'ok', // answered: a refusal is a reply
  [LEDGER.failed]: 'fail',
  [LEDGER.unknown]: 'info',
};

/** Outcome of one request, from the net server's reply. */
export function classify(r: Reply<{ status: number }>): 'ok' | 'fail' | 'info' {
  return OUTCOME_OF_CODE[ledgerCode(r)];
}

export class SimulatedWire {
  private readonly ledger: Uint8Array;

  constructor(
    private readonly regs: Registers,
    private readonly clock: WireClock = hostClock,
  ) {
    this.ledger = ledgerOf(regs);
  }

  /** Fold one response's hash into the digest registers. */
  private fold(h: number): void {
    const r = this.regs;
    Atomics.store(r, REG.digestSum, (Atomics.load(r, REG.digestSum) + h) | 0);
    Atomics.store(r, REG.digestMix, (Atomics.load(r, REG.digestMix) + Math.imul(h ^ 0x9e3779b9, 0x85ebca6b)) | 0);
    Atomics.add(r, REG.responses, 1);
  }

  /** Send the plan's requests to `deliver` under its arrival model; resolves when all sent have settled. */
  async run(plan: ClientPlan, deliver: Deliver): Promise<WireResult> {
    const r = this.regs;
    const clock = this.clock;
    const latency = new LatencyRecorder();
    const timeline = new OkTimeline();
    const t0 = clock.now();
    const deadline = plan.durationMs === undefined ? Infinity : t0 + plan.durationMs;
    let nextId = 0;
    let endedBy: WireResult['endedBy'] = 'requests';
    /** The id of the next request to send, or -1 when sending is over. */
    const take = (): number => {
      if (Atomics.load(r, REG.stop) !== 0) endedBy = 'stop';
      else if (clock.now() >= deadline) endedBy = 'duration';
      else if (nextId < plan.requests) return nextId++;
      return -1;
    };
    const ledger = this.ledger;
    let sentEarly = 0;
    let resent = 0;
    /** Send request `id` and record its latency from `since` (its scheduled arrival, or now). */
    const send = async (id: number, req: Request, since: number) => {
      const logged = id < ledger.length;
      if (logged) ledger[id] = LEDGER.inFlight;
      Atomics.add(r, REG.issued, 1);
      if (clock.now() < since) sentEarly++;
      let a: LinkAnswer;
      for (let attempt = 0; ; attempt++) {
        a = await deliver(id, req, attempt > 0);
        // a reset read is sent again: it changes nothing however often it is done
        if (a.r.ok || a.r.errno !== 'ECONNRESET' || req.body || attempt >= RESEND_READS) break;
        resent++;
      }
      latency.record((clock.now() - since) * 1000);
      const status = a.hash !== undefined && a.r.ok ? a.r.value.status : undefined;
      const code = settledCode(status, a.r);
      if (status !== undefined && OUTCOME_OF_CODE[code] === 'ok') this.fold(a.hash!);
      if (logged) ledger[id] = code;
      Atomics.add(r, REG[OUTCOME_OF_CODE[code]], 1);
      if (OUTCOME_OF_CODE[code] === 'ok') timeline.note(clock.now() - t0);
    };
    // requests are drawn in request-id order, whatever the arrival model
    const takeLine = (): [number, Request] | null => {
      const id = take();
      return id < 0 ? null : [id, plan.next()];
    };
    let pacing: Pacing | null = null;
    if (plan.arrival.kind === 'open') {
      const kept = await this.openLoop(plan.arrival, plan.random, takeLine, send);
      pacing = { sentEarly, ...kept };
    } else await this.closedLoop(plan.arrival.thinkTimeMs, plan.clients, plan.requests, takeLine, send);
    const elapsedMs = clock.now() - t0;
    return { elapsedMs, latencyUs: latency.summary(), endedBy, pacing, resent, secondHalfOkPerSec: timeline.secondHalfPerSec(elapsedMs) };
  }

  /** `clients` clients, each sending its next request `thinkMs` after its last reply. */
  private async closedLoop(
    thinkMs: number,
    clients: number,
    requests: number,
    take: () => [number, Request] | null,
    send: (id: number, req: Request, since: number) => Promise<void>,
  ): Promise<void> {
    // In a kernel whose calls are all direct (the monolith) the clients would run
    // on microtasks alone and never let the event loop turn, so the domain could
    // not answer its heartbeat: every few ms all clients wait for one turn.
    const clock = this.clock;
    let gate: Promise<void> | null = null;
    let lastTurn = clock.now();
    const turn = async () => {
      if (!gate && clock.now() - lastTurn > YIELD_EVERY_MS) {
        gate = clock.turn().then(() => {
          gate = null;
          lastTurn = clock.now();
        });
      }
      if (gate) await gate;
    };
    const client = async () => {
      for (;;) {
        await turn();
        const next = take();
        if (!next) return;
        await send(next[0], next[1], clock.now());
        if (thinkMs > 0) await clock.sleep(thinkMs);
      }
    };
    await Promise.all(Array.from({ length: Math.min(clients, requests) }, client));
  }

  /**
   * Poisson arrivals at `ratePerSec` from a seeded generator. A request is sent
   * at its scheduled time (never before it; after it by the host's timer error)
   * whatever the earlier ones are doing, unless `maxInFlight` are outstanding:
   * then it waits, in arrival order, and the wait counts in its latency, which
   * runs from its scheduled arrival. Resolves, once all sent have settled, with
   * how late the arrivals were released.
   */
  private async openLoop(
    arrival: Extract<Arrival, { kind: 'open' }>,
    random: () => number,
    take: () => [number, Request] | null,
    send: (id: number, req: Request, since: number) => Promise<void>,
  ): Promise<Omit<Pacing, 'sentEarly'>> {
    const clock = this.clock;
    const late = new LatencyRecorder();
    let sentLateOver1Ms = 0;
    let due = clock.now();
    let lastTurn = due;
    let inFlight = 0;
    const waiting: (() => void)[] = []; // arrivals waiting for a slot, oldest first
    const all: Promise<void>[] = [];
    for (;;) {
      due += (-Math.log(1 - random()) / arrival.ratePerSec) * 1000;
      // behind schedule the arrivals come back to back: let replies (and heartbeats) in now and then
      if (await waitUntil(due, clock)) lastTurn = clock.now();
      else if (clock.now() - lastTurn > YIELD_EVERY_MS) {
        await clock.turn();
        lastTurn = clock.now();
      }
      const lateMs = clock.now() - due;
      const next = take();
      if (!next) break;
      late.record(lateMs * 1000);
      if (lateMs > LATE_MS) sentLateOver1Ms++;
      const since = due;
      all.push(
        (async () => {
          // a slot is handed from a finished request to the oldest waiter, so
          // requests go out in arrival order
          if (inFlight >= arrival.maxInFlight || waiting.length > 0) await new Promise<void>((res) => waiting.push(res));
          else inFlight++;
          await send(next[0], next[1], since);
          const heir = waiting.shift();
          if (heir) heir();
          else inFlight--;
        })(),
      );
    }
    await Promise.all(all);
    const { p50, p99, max } = late.summary();
    return { sentLateOver1Ms, lateUs: { p50, p99, max } };
  }
}
