/**
 * The wire device's registers: a few int32 cells in a SharedArrayBuffer owned by
 * the kernel, so the harness can read the outcome tally and the digest even if
 * the domain running the device died, and can ask the device to stop.
 */
export const REG = {
  issued: 0,
  ok: 1,
  fail: 2,
  info: 3,
  /** Responses folded into the digest: one per request counted ok, never more. */
  responses: 4,
  digestSum: 5,
  digestMix: 6,
  stop: 7,
} as const;
const REG_COUNT = 8;

/**
 * The served tally (serve's devices only), after the registers: one cell per
 * HTTP status code from 100 to 999 (all that node writes), one per connection or
 * parser event, then the body bytes sent in a 64-bit cell.
 * Kept here rather than sent to the harness in messages, so that what a device
 * served right before its domain died (a panic) is still in the report.
 */
const STATUS_MIN = 100;
const STATUS_CELLS = 900;
/** Cells for the device's connection and parser events, one each (socket.ts's HTTP_EVENTS, in its order). */
export const EVENT_CELLS = 16;
const EVENTS_AT = (REG_COUNT + STATUS_CELLS) * 4;
const BODY_BYTES_AT = EVENTS_AT + EVENT_CELLS * 4; // a multiple of 8, as a BigInt64 cell needs
/** Bytes of the registers and the served tally, before the ledger. */
const HEAD_BYTES = BODY_BYTES_AT + 8;

export type Registers = Int32Array;

/**
 * The ledger: one byte per request after the registers, saying what became of
 * it, so the harness knows which writes were acknowledged even if the device's
 * domain died. Kept only for runs that write.
 */
export const LEDGER = {
  notIssued: 0,
  inFlight: 1,
  /** answered with a 2xx status: for a WRITE, the acknowledgement */
  done: 2,
  /** answered, but refused (4xx) */
  refused: 3,
  failed: 4,
  unknown: 5,
} as const;

/** Registers, and a ledger of `ledgerEntries` requests. */
export function newRegisters(ledgerEntries = 0): Registers {
  return new Int32Array(new SharedArrayBuffer(HEAD_BYTES + ledgerEntries), 0, REG_COUNT);
}

/** The registers in `buffer` (as another thread maps them). */
export function registersOver(buffer: ArrayBufferLike): Registers {
  return new Int32Array(buffer, 0, REG_COUNT);
}

/** The ledger behind `regs` (empty if the run keeps none). */
export function ledgerOf(regs: Registers): Uint8Array {
  return new Uint8Array(regs.buffer, HEAD_BYTES);
}

/**
 * The served tally behind `regs`, as views made once: the device writes it as it
 * answers, the harness reads it for the report (each from its own thread).
 */
export class ServedTally {
  private readonly statuses: Int32Array;
  private readonly events: Int32Array;
  private readonly body: BigInt64Array;

  constructor(regs: Registers) {
    this.statuses = new Int32Array(regs.buffer, REG_COUNT * 4, STATUS_CELLS);
    this.events = new Int32Array(regs.buffer, EVENTS_AT, EVENT_CELLS);
    this.body = new BigInt64Array(regs.buffer, BODY_BYTES_AT, 1);
  }

  /** A response went out with `status` and `bodyBytes` of body. */
  served(status: number, bodyBytes: number): void {
    const cell = status - STATUS_MIN;
    if (cell >= 0 && cell < STATUS_CELLS) Atomics.add(this.statuses, cell, 1);
    if (bodyBytes > 0) Atomics.add(this.body, 0, BigInt(bodyBytes));
  }

  /** Event number `e` (its index in HTTP_EVENTS) happened. */
  event(e: number): void {
    if (e >= 0 && e < EVENT_CELLS) Atomics.add(this.events, e, 1);
  }

  /** Responses by status code (the codes served only), the event counts by index in HTTP_EVENTS, and the body bytes sent. */
  read(): { statuses: Record<string, number>; events: number[]; bodyBytes: number } {
    const statuses: Record<string, number> = {};
    for (let i = 0; i < STATUS_CELLS; i++) {
      const n = Atomics.load(this.statuses, i);
      if (n > 0) statuses[String(STATUS_MIN + i)] = n;
    }
    const events = Array.from({ length: EVENT_CELLS }, (_, i) => Atomics.load(this.events, i));
    return { statuses, events, bodyBytes: Number(Atomics.load(this.body, 0)) };
  }
}

/**
 * What became of a run's requests: `ok` (it happened and its response reached
 * the client), `fail` (known not to have happened), `info` (outcome unknown:
 * reset, or past the deadline), `pending` (sent but never settled) and
 * `notIssued` (never sent).
 */
export interface Outcomes {
  ok: number;
  fail: number;
  info: number;
  pending: number;
  notIssued: number;
}

/** The outcome tally as the registers hold it, for a run of `requests` requests. */
export function readOutcomes(regs: Registers, requests: number): Outcomes {
  const issued = Atomics.load(regs, REG.issued);
  const ok = Atomics.load(regs, REG.ok);
  const fail = Atomics.load(regs, REG.fail);
  const info = Atomics.load(regs, REG.info);
  return { ok, fail, info, pending: issued - ok - fail - info, notIssued: requests - issued };
}

/**
 * The order-independent digest of the responses to the requests counted ok, as
 * hex: sum lane, mix lane, then their count (which equals `ok` in the outcomes).
 */
export function readDigest(regs: Registers): string {
  const hex = (i: number) => (Atomics.load(regs, i) >>> 0).toString(16).padStart(8, '0');
  return `${hex(REG.digestSum)}${hex(REG.digestMix)}-${Atomics.load(regs, REG.responses)}`;
}

export function requestStop(regs: Registers): void {
  Atomics.store(regs, REG.stop, 1);
}
