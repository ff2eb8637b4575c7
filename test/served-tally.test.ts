/**
 * The served tally: the statuses, body bytes and connection events `serve` reports are kept in
 * the registers' shared memory, where the device writes them as it answers,
 * so a device whose domain dies right after answering (a panic of the
 * monolithic kernel) still has every response it sent in the report.
 */
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_CELLS, ledgerOf, LEDGER, newRegisters, readOutcomes, REG, ServedTally, type Registers } from '../src/wire/registers.js';
import { HTTP_EVENTS } from '../src/wire/socket.js';

// each call through a tally of its own over the same registers, as the device's and the harness's are
const noteServed = (regs: Registers, status: number, bodyBytes: number) => new ServedTally(regs).served(status, bodyBytes);
const noteEvent = (regs: Registers, e: number) => new ServedTally(regs).event(e);
const readEvents = (regs: Registers) => new ServedTally(regs).read().events;
function readServed(regs: Registers) {
  const { statuses, bodyBytes } = new ServedTally(regs).read();
  return { statuses, bodyBytes };
}

describe('the served tally', () => {
  it('counts responses by status code and sums body bytes past 2^31', () => {
    const regs = newRegisters();
    expect(readServed(regs)).toEqual({ statuses: {}, bodyBytes: 0 });
    noteServed(regs, 200, 2 ** 31);
    noteServed(regs, 200, 2 ** 31);
    noteServed(regs, 404, 0);
    noteServed(regs, 100, 0);
    noteServed(regs, 999, 7);
    expect(readServed(regs)).toEqual({ statuses: { 100: 1, 200: 2, 404: 1, 999: 1 }, bodyBytes: 2 ** 32 + 7 });
  });

  it('lies between the registers and the ledger, and touches neither', () => {
    const regs = newRegisters(4);
    const ledger = ledgerOf(regs);
    expect(ledger.length).toBe(4);
    ledger.set([LEDGER.done, LEDGER.failed, LEDGER.unknown, LEDGER.refused]);
    Atomics.store(regs, REG.issued, 3);
    Atomics.store(regs, REG.ok, 2);
    noteServed(regs, 100, 0);
    noteServed(regs, 999, 2 ** 40);
    expect([...ledger]).toEqual([LEDGER.done, LEDGER.failed, LEDGER.unknown, LEDGER.refused]);
    expect(readOutcomes(regs, 4)).toEqual({ ok: 2, fail: 0, info: 0, pending: 1, notIssued: 1 });
    expect(readServed(regs)).toEqual({ statuses: { 100: 1, 999: 1 }, bodyBytes: 2 ** 40 });
  });

  it("what a thread noted before it died without posting a word is all there", async () => {
    const regs = newRegisters();
    const module = pathToFileURL(resolve('dist/wire/registers.js')).href;
    // the device's thread answers 50 requests and exits at once: no message, no flush
    const w = new Worker(
      `const { workerData } = require('node:worker_threads');
       import(${JSON.stringify(module)}).then(({ registersOver, ServedTally, REG }) => {
         const regs = registersOver(workerData);
         const tally = new ServedTally(regs);
         for (let i = 0; i < 50; i++) { tally.served(i % 5 === 0 ? 404 : 200, 1000); Atomics.add(regs, REG.ok, 1); }
         process.exit(0);
       });`,
      { eval: true, workerData: regs.buffer },
    );
    const code = await new Promise((res) => w.on('exit', res));
    expect(code).toBe(0);
    expect(Atomics.load(regs, REG.ok)).toBe(50);
    expect(readServed(regs)).toEqual({ statuses: { 200: 40, 404: 10 }, bodyBytes: 50_000 });
  });
});

describe('the served tally: events', () => {
  it('counts each event in its own cell, apart from the statuses and the body bytes', () => {
    const regs = newRegisters(2);
    for (let i = 0; i < EVENT_CELLS; i++) for (let k = 0; k <= i; k++) noteEvent(regs, i);
    noteServed(regs, 999, 2 ** 40);
    noteEvent(regs, -1); // not an event: nothing
    noteEvent(regs, EVENT_CELLS);
    expect(readEvents(regs)).toEqual(Array.from({ length: EVENT_CELLS }, (_, i) => i + 1));
    expect(readServed(regs)).toEqual({ statuses: { 999: 1 }, bodyBytes: 2 ** 40 });
    expect([...ledgerOf(regs)]).toEqual([0, 0]);
  });

  it('has a cell for every HTTP event', () => {
    expect(HTTP_EVENTS.length).toBeLessThanOrEqual(EVENT_CELLS);
  });
});
