/**
 * A rogue app, for the microkernel only: it runs the shipped app (its init,
 * its receive loops, its clients' bookkeeping) unchanged, but first probes its
 * domain as the rogue disk does (rogue-disk.ts), and then what only a server
 * holding grants can try: calls through forged handles on the servers it may
 * call, naming an incarnation other than the one that is up. The kernel must
 * refuse each with ESTALE, without delivering it.
 *
 * The disk cannot try this: it holds no grant, so any handle it forges is
 * refused with ECALLDENIED before its generation is looked at. Nor does the
 * monolith refuse it: it has one incarnation of each server and no
 * generations to check, so this module is not placed there.
 *
 * It reports as the rogue disk does: a finding in its domain makes init throw;
 * a forged call that is not refused with ESTALE crashes the app with a message
 * naming it. Once every forged call was refused, it makes one call it holds no
 * grant for (to itself), which the kernel counts in the app's `callsDenied`:
 * that count of 1 is the sign, in the report, that the probes ran to the end
 * and found nothing.
 */
import { app } from '../../src/servers/app.js';
import type { Handle } from '../../src/servers/server.js';
import { expectRefused, probeDomain } from './rogue-disk.js';

export const server: typeof app = {
  ...app,
  init(boot, ctx) {
    const found = probeDomain('app');
    if (found.length) throw new Error(`rogue app found: ${found.join('; ')}`);
    const forged = (to: 'disk' | 'net', gen: number): Handle => ({ server: to, gen, state: 'up' });
    const disk = ctx.handle('disk').gen;
    const net = ctx.handle('net').gen;
    const stale = [
      { to: forged('disk', disk + 1), msg: { type: 'DISK_STAT', ino: 0 }, what: `a DISK_STAT through a forged handle on disk's incarnation ${disk + 1}` },
      { to: forged('disk', disk - 1), msg: { type: 'DISK_STAT', ino: 0 }, what: `a DISK_STAT through a forged handle on disk's incarnation ${disk - 1}` },
      { to: forged('net', net + 1), msg: { type: 'NET_SEND', reqId: -1, status: 200, body: [] }, what: `a NET_SEND through a forged handle on net's incarnation ${net + 1}` },
    ];
    // not caught on purpose: a forged call that got through is this server's crash
    void expectRefused('app', ctx, stale, 'ESTALE').then(() => expectRefused('app', ctx, [{ to: 'app', msg: { type: 'APP_PROBE' }, what: "a call to 'app' (itself)" }], 'ECALLDENIED'));
    return app.init(boot, ctx);
  },
};
