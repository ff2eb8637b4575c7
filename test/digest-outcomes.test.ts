/**
 * The digest and the outcomes count the same requests: a response is folded
 * into the digest exactly when its request is counted ok, so the digest's count
 * (after the `-`) is `outcomes.ok`, in a faulted run too. A request's outcome is
 * what reached the client: a response on the wire decides it (a 5xx response is
 * a failure, and not in the digest), whatever became of the reply inside the
 * kernel; without one, the net server's reply does.
 */
import { describe, expect, it } from 'vitest';
import type { Mode } from '../src/config.js';
import type { ServerName } from '../src/protocol.js';
import { run } from '../src/run.js';
import { SimulatedWire, type ClientPlan, type Deliver } from '../src/wire/clients.js';
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

/** One request through a wire whose net server does `serve`. */
async function oneRequest(serve: (wire: SimulatedWire) => Deliver) {
  const regs = newRegisters();
  const wire = new SimulatedWire(regs);
  await wire.run(plan(1), serve(wire));
  return { outcomes: readOutcomes(regs, 1), responses: digestCount(readDigest(regs)) };
}

describe('the wire settles a request by what reached the client', () => {
  it('a 503 response on the wire is a failure, and not in the digest', async () => {
    const r = await oneRequest((wire) => async (msg) => {
      wire.transmit(msg.reqId, 503, frames(1));
      return { ok: true, value: { status: 503 } };
    });
    expect(r.outcomes).toMatchObject({ ok: 0, fail: 1, info: 0 });
    expect(r.responses).toBe(0);
  });

  it('a 200 response on the wire is ok even if the reply is then lost (peer died, or the kernel panicked)', async () => {
    const lostReply = await oneRequest((wire) => async (msg) => {
      wire.transmit(msg.reqId, 200, frames(2));
      return { ok: false, errno: 'EPEERDIED' };
    });
    expect(lostReply.outcomes).toMatchObject({ ok: 1, fail: 0, info: 0 });
    expect(lostReply.responses).toBe(1);
    const panicked = await oneRequest((wire) => async (msg) => {
      wire.transmit(msg.reqId, 200, frames(3));
      throw new Error('kernel panic');
    });
    expect(panicked.outcomes).toMatchObject({ ok: 1, fail: 0, info: 0 });
    expect(panicked.responses).toBe(1);
  });

  it('without a response on the wire, the reply decides, and the digest has nothing', async () => {
    const died = await oneRequest(() => async () => ({ ok: false, errno: 'EPEERDIED' }));
    expect(died.outcomes).toMatchObject({ ok: 0, fail: 0, info: 1 });
    const refused = await oneRequest(() => async () => ({ ok: false, errno: 'EDEADDST' }));
    expect(refused.outcomes).toMatchObject({ ok: 0, fail: 1, info: 0 });
    // a reply that says sent, with nothing on the wire: the client cannot know
    const claimed = await oneRequest(() => async () => ({ ok: true, value: { status: 200 } }));
    expect(claimed.outcomes).toMatchObject({ ok: 0, fail: 0, info: 1 });
    for (const r of [died, refused, claimed]) expect(r.responses).toBe(0);
  });
});

describe.each(['monolithic', 'microkernel'] as Mode[])('%s kernel: a server crash mid-run', (mode) => {
  it.each(['disk', 'app', 'net'] as ServerName[])('%s@200: the digest holds exactly the requests counted ok', async (server) => {
    const r = await run({ mode, workload: 'specweb96', seed: 1, requests: 20_000, callTimeoutMs: 20_000, fault: { server, atMessage: 200 } });
    expect(r.faults.map((f) => f.server)).toEqual([server]);
    expect(r.outcomes.ok).toBeGreaterThan(0);
    expect(digestCount(r.digest)).toBe(r.outcomes.ok);
  });
});
