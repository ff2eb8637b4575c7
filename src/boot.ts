/**
 * What both kernels do alike at boot: which module is which server, and what
 * boot information each server gets. The kernels differ only in where the
 * servers run and how `call` reaches them.
 *
 * A server is the shipped module unless the configuration places another
 * module file for it (`serverModules`, `--server-module`): each
 * kernel loads the placed modules first (`placedModules`, the only
 * asynchronous step, and immediate when none is placed), then boots every
 * server synchronously as before (`bootByName`).
 */
import { resolve } from 'node:path';
import { importModuleFile, ModuleError } from './module-file.js';
import seedrandom from 'seedrandom';
import { SERVER_NAMES, type ServerName } from './protocol.js';
import { app, DEFAULT_RETRY } from './servers/app.js';
import { disk } from './servers/disk.js';
import { net, type NetDevice } from './servers/net.js';
import type { ZoneSpec } from './servers/dns-zone.js';
import { bootServer, type ServerContext, type ServerInstance, type ServerModule } from './servers/server.js';
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

type AnyServerModule = ServerModule<any, any, any>;

/** Modules placed for some servers (loaded), by the server they replace. */
export type PlacedModules = Partial<Record<ServerName, AnyServerModule>>;

/** What is wrong with `value` as the module of server `name`; empty if nothing. */
function moduleProblems(name: ServerName, value: unknown): string[] {
  if (typeof value !== 'object' || value === null) {
    return [value === undefined ? 'no export `server` (a default or named export `server` is needed)' : `its export \`server\` is ${value === null ? 'null' : `a ${typeof value}`}, not an object`];
  }
  const m = value as Record<string, unknown>;
  const problems: string[] = [];
  if (m.name !== name) problems.push(`\`server.name\` must be '${name}' (the server it replaces), got ${JSON.stringify(m.name) ?? String(m.name)}`);
  if (typeof m.init !== 'function') problems.push('`server.init` must be a function');
  if (typeof m.calls !== 'object' || m.calls === null || Array.isArray(m.calls)) {
    problems.push('`server.calls` must be an object of handler functions');
  } else {
    for (const [type, h] of Object.entries(m.calls)) {
      if (typeof h !== 'function') problems.push(`\`server.calls.${type}\` must be a function`);
    }
  }
  for (const opt of ['start', 'clientDied'] as const) {
    if (m[opt] !== undefined && typeof m[opt] !== 'function') problems.push(`\`server.${opt}\` must be a function if given`);
  }
  return problems;
}

/**
 * Import the module file `file` (a path, absolute or relative to the working
 * directory) as server `name`, and check what it exports: a default or named
 * export `server` that is an object with `name` equal to `name`, `init` a
 * function, `calls` an object of functions, and `start` and `clientDied`
 * functions if given. Rejects with an Error naming the file and everything
 * that is missing or wrong.
 */
export async function loadServerModule(name: ServerName, file: string): Promise<AnyServerModule> {
  const path = resolve(file);
  let ns: Record<string, unknown>;
  try {
    ns = await importModuleFile(path);
  } catch (e) {
    throw new ModuleError(`server module ${path} for ${name} could not be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const value = 'server' in ns ? ns.server : ns.default;
  const problems = moduleProblems(name, value);
  if (problems.length) throw new ModuleError(`server module ${path} for ${name}: ${problems.join('; ')}`);
  return value as AnyServerModule;
}

/** Load the modules `cfg` places for `names` (all servers by default); none placed: resolves at once with {}. */
export async function placedModules(cfg: KernelConfig, names: readonly ServerName[] = SERVER_NAMES): Promise<PlacedModules> {
  const placed: PlacedModules = {};
  for (const name of names) {
    const file = cfg.serverModules?.[name];
    if (file !== undefined) placed[name] = await loadServerModule(name, file);
  }
  return placed;
}

/**
 * Boot server `name` in context `ctx`: the same boot information at every
 * incarnation, so a restarted server starts as the first one did (the disk
 * mounts the image again, with an empty cache). A module placed for it
 * (loaded into `placed` by `placedModules`) gets the boot information the
 * shipped one would.
 */
export function bootByName(
  name: ServerName,
  cfg: KernelConfig,
  res: BootResources,
  ctx: ServerContext,
  placed: PlacedModules = {},
): ServerInstance {
  const module = placed[name];
  if (module === undefined && cfg.serverModules?.[name] !== undefined) {
    throw new Error(`server module ${cfg.serverModules[name]} for ${name} was not loaded: load it with placedModules before boot`);
  }
  switch (name) {
    case 'disk':
      return bootServer(module ?? disk, { image: res.machine.image, cacheBlocks: cfg.cacheBlocks }, ctx);
    case 'net':
      return bootServer(module ?? net, { mtu: cfg.mtu, checksumOffload: cfg.checksumOffload, device: res.device }, ctx);
    case 'app':
      return bootServer(
        module ?? app,
        {
          zone: res.machine.zone && { ...res.machine.zone, seed: res.machine.seed },
          receives: cfg.receives,
          retry: { ...DEFAULT_RETRY, waitMs: cfg.callTimeoutMs },
        },
        ctx,
      );
  }
}
