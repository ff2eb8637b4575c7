/**
 * The digest and the outcomes count the same requests: a response is folded
 * into the digest exactly when its request is counted ok, so the digest's count
 * (after the `-`) is `outcomes.ok`, in a faulted run too. A request's outcome is
 * what reached the client over the link: a response that went out (the NIC
 * sends its hash back with the reply) decides it (a 5xx response is a failure,
 * and not in the digest); without one, the net server's reply does. A read
 * whose connection was reset is sent again; a write is not.
 */
import { describe, expect, it } from 'vitest';
import type { Mode } from '../src/config.js';
import type { Reply, ServerName } from '../src/protocol.js';
import { run } from '../src/run.js';
import { RESEND_READS, SimulatedWire, type ClientPlan, type Deliver } from '../src/wire/clients.js';
import { responseHash, type LinkAnswer } from '../src/wire/link.js';
import { newRegisters, readDigest, readOutcomes } from '../src/wire/registers.js';

const digestCount = (digest: string) => Number(digest.split('-')[1]);

function plan(requests: number): ClientPlan {
  return {
    requests,
    clients: 1,
    arrival: { kind: 'closed', thinkTimeMs: 0 },
    next: () => ({ line: 'GET /x HTTP/1.0' }),
    random: () => 0.5,
  };
}

const frames = (b: number) => [{ checksum: null, segments: [new Uint8Array([b])], length: 1 }];

/** What the link brings back when the NIC put a response with `status` on the wire: the reply, and the response's hash. */
const answered = (id: number, status: number, b: number): LinkAnswer => ({ r: { ok: true, value: { status } }, hash: responseHash(id, status, frames(b)) });

/** What the link brings back without a response: the reply alone. */
const replyOnly = (r: Reply<{ status: number }>): LinkAnswer => ({ r });

/** One request through a wire whose net server (over the link) does `serve`. */
async function oneRequest(serve: Deliver) {
  const regs = newRegisters();
  const wire = new SimulatedWire(regs);
  const result = await wire.run(plan(1), serve);
  return { outcomes: readOutcomes(regs, 1), responses: digestCount(readDigest(regs)), digest: readDigest(regs), result };
}

describe('the wire settles a request by what reached the client', () => {
  it('a 503 response on the wire is a failure, and not in the digest', async () => {
    const r = await oneRequest(async (id) => answered(id, 503, 1));
    expect(r.outcomes).toMatchObject({ ok: 0, fail: 1, info: 0 });
    expect(r.responses).toBe(0);
  });

  it('a 200 response that reached the client is ok, and its hash (as the NIC computed it) is what the digest holds', async () => {
    const one = await oneRequest(async (id) => answered(id, 200, 2));
    expect(one.outcomes).toMatchObject({ ok: 1, fail: 0, info: 0 });
    expect(one.responses).toBe(1);
    // the same response gives the same digest; another response's bytes another one
    expect((await oneRequest(async (id) => answered(id, 200, 2))).digest).toBe(one.digest);
    expect((await oneRequest(async (id) => answered(id, 200, 3))).digest).not.toBe(one.digest);
  });

  it('without a response on the wire, the reply decides, and the digest has nothing', async () => {
    const died = await oneRequest(async () => replyOnly({ ok: false, errno: 'EPEERDIED' }));
    expect(died.outcomes).toMatchObject({ ok: 0, fail: 0, info: 1 });
    const refused = await oneRequest(async () => replyOnly({ ok: false, errno: 'EDEADDST' }));
    expect(refused.outcomes).toMatchObject({ ok: 0, fail: 1, info: 0 });
    // the system went down under the request (a panic: the link failed), or it passed its deadline: unknown
    for (const errno of ['ESHUTDOWN', 'ETIMEDOUT'] as const) {
      const down = await oneRequest(async () => replyOnly({ ok: false, errno }));
      expect(down.outcomes, errno).toMatchObject({ ok: 0, fail: 0, info: 1 });
      expect(down.responses).toBe(0);
    }
    // nothing serves requests any more: refused before anything was done
    const gone = await oneRequest(async () => replyOnly({ ok: false, errno: 'ECONNREFUSED' }));
    expect(gone.outcomes).toMatchObject({ ok: 0, fail: 1, info: 0 });
    // a reply that says sent, with nothing on the wire: the client cannot know
    const claimed = await oneRequest(async () => replyOnly({ ok: true, value: { status: 200 } }));
    expect(claimed.outcomes).toMatchObject({ ok: 0, fail: 0, info: 1 });
    for (const r of [died, refused, gone, claimed]) expect(r.responses).toBe(0);
  });

  it('a read whose connection was reset is sent again, up to RESEND_READS times, and settles by the last answer', async () => {
    const tries: boolean[] = [];
    const r = await oneRequest(async (id, _req, again) => {
      tries.push(again);
      return tries.length < 3 ? replyOnly({ ok: false, errno: 'ECONNRESET' }) : answered(id, 200, 4);
    });
    expect(tries).toEqual([false, true, true]);
    expect(r.result.resent).toBe(2);
    expect(r.outcomes).toMatchObject({ ok: 1, fail: 0, info: 0 });
    expect(r.responses).toBe(1);
    // reset every time: sent 1 + RESEND_READS times, then unknown
    let sent = 0;
    const reset = await oneRequest(async () => {
      sent++;
      return replyOnly({ ok: false, errno: 'ECONNRESET' });
    });
    expect(sent).toBe(1 + RESEND_READS);
    expect(reset.result.resent).toBe(RESEND_READS);
    expect(reset.outcomes).toMatchObject({ ok: 0, fail: 0, info: 1 });
  });

  it('a write whose connection was reset is not sent again: its outcome is unknown', async () => {
    const regs = newRegisters();
    const wire = new SimulatedWire(regs);
    let sent = 0;
    const result = await wire.run({ ...plan(1), next: () => ({ line: 'WRITE /x 0 1', body: new Uint8Array([1]) }) }, async () => {
      sent++;
      return replyOnly({ ok: false, errno: 'ECONNRESET' });
    });
    expect(sent).toBe(1);
    expect(result.resent).toBe(0);
    expect(readOutcomes(regs, 1)).toMatchObject({ ok: 0, fail: 0, info: 1 });
  });
});

describe.each(['monolithic', 'microkernel'] as Mode[])('%s kernel: a server crash mid-run', (mode) => {
  it.each(['disk', 'app', 'net'] as ServerName[])('%s@200: the digest holds exactly the requests counted ok', async (server) => {
    const r = await run({ mode, workload: 'specweb96', seed: 1, requests: 2000, callTimeoutMs: 20_000, faults: [`${server}@200`] });
    expect(r.faults.map((f) => f.server)).toEqual([server]);
    // the monolith panics; the microkernel's supervisor restarts the server
    expect(r.faults.map((f) => f.outcome)).toEqual([mode === 'monolithic' ? 'system-down' : 'restarted']);
    expect(r.outcomes.ok).toBeGreaterThan(0);
    expect(digestCount(r.digest)).toBe(r.outcomes.ok);
  });
});
