/**
 * What both kernels do alike at boot: which module is which server, and what
 * boot information each server gets. The kernels differ only in where the
 * servers run and how `call` reaches them.
 */
import seedrandom from 'seedrandom';
import type { ServerName } from './protocol.js';
import { app, DEFAULT_RETRY } from './servers/app.js';
import { disk } from './servers/disk.js';
import { net, type NetDevice } from './servers/net.js';
import type { ZoneSpec } from './servers/dns-zone.js';
import { bootServer, type ServerContext, type ServerInstance } from './servers/server.js';
import type { KernelConfig } from './config.js';

/**
 * What the machine is set up with before boot, from the workload: the disk's
 * media, the seed every server's generator starts from, and the zone the app
 * serves (null without a dns service). The same in every kernel.
 */
export interface Machine {
  image: SharedArrayBuffer;
  seed: string | number;
  zone: ZoneSpec | null;
}

/** Kernel-owned resources the servers are booted with. */
export interface BootResources {
  machine: Machine;
  device: NetDevice;
}

/** The seeded generator a server gets; one stream per server and seed. */
export function serverRng(name: ServerName, seed: string | number): seedrandom.PRNG {
  return seedrandom(`${seed}:server:${name}`);
}

/**
 * Boot server `name` in context `ctx`: the same boot information at every
 * incarnation, so a restarted server starts as the first one did (the disk
 * mounts the image again, with an empty cache).
 */
export function bootByName(
  name: ServerName,
  cfg: KernelConfig,
  res: BootResources,
  ctx: ServerContext,
): ServerInstance {
  switch (name) {
    case 'disk':
      return bootServer(disk, { image: res.machine.image, cacheBlocks: cfg.cacheBlocks }, ctx);
    case 'net':
      return bootServer(net, { mtu: cfg.mtu, checksumOffload: cfg.checksumOffload, device: res.device }, ctx);
    case 'app':
      return bootServer(
        app,
        {
          zone: res.machine.zone && { ...res.machine.zone, seed: res.machine.seed },
          receives: cfg.receives,
          retry: { ...DEFAULT_RETRY, waitMs: cfg.callTimeoutMs },
        },
        ctx,
      );
  }
}
