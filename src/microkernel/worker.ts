/**
 * The body of every server worker: one protection domain holding one
 * incarnation of one server.
 *
 * The kernel starts it with the server's name and incarnation, its granted
 * channel ends and the kernel-owned memory it may use (disk image, counter
 * slab, wire registers, fault board, shared pools); the net server's domain
 * also gets the NIC. The control plane (boot, start, stats, a new incarnation
 * of a peer, a peer given up) is comlink; the data path is the kernel's own IPC
 * (ipc.ts).
 *
 * Each channel names the incarnation of the peer it reaches. A call through a
 * handle on an older incarnation fails with ESTALE; a call to a peer that died
 * and is not back yet with EDEADDST; a call to a peer the supervisor gave up on
 * with ESERVERFAILED; a call to a server this domain holds no channel to with
 * ECALLDENIED. A handler that throws crashes this worker at once (fail-stop):
 * the reason goes into the crash note, which the kernel reads after the exit.
 */
import { Counters } from '../metrics/counters.js';
import { MAX_PAYLOAD_BYTES, RECEIVE_CALLS, SERVER_NAMES, type Reply, type ServerName } from '../protocol.js';
import { fail, heapBlocks, type BlockAllocator, type Caller, type Handle, type ServerContext, type ServerInstance } from '../servers/server.js';
import { DEVICE_CALLER } from '../servers/net.js';
import { bootByName, placedModules, serverRng, type Machine } from '../boot.js';
import type { KernelConfig } from '../config.js';
import { registersOver, REG } from '../wire/registers.js';
import { openDevice } from '../wire/link.js';
import { epochMs, FaultInjector, faultBoardOver, handleMessage } from '../faults/inject.js';
import { crashDomain, domainBoot, serveControl, type Port } from '../harness/domain.js';
import { Endpoint } from './ipc.js';
import { Links } from './links.js';
import { PoolBlocks, PoolMapping, type PoolMemory } from './pool.js';
import { Pump, pumpCounts, type Doorbell, type PumpCounts } from './ring.js';
import { openChannel, type ChannelRings } from './batch.js';
import { codecFor, keptBuffers, release, type Codec, type Held } from './transport.js';
import { GrantDomain, grantCodec, loadTransportModule, type GrantMemory, type TransportModule } from './transport-module.js';
import { domainNo, TraceRecorder } from '../trace/recorder.js';
import type { TraceRecord, TraceSettings } from '../trace/types.js';

/** One granted channel end: to which incarnation of which peer, and who may call whom over it. */
export interface ChannelGrant {
  peer: ServerName;
  peerGen: number;
  /** The channel's port: carries messages, or with ring signalling only the peer's liveness. */
  port: Port;
  /** The peer may call us over it. */
  peerMayCall: boolean;
  /** We may call the peer over it. */
  mayCall: boolean;
  /** Ring signalling: our outbound and inbound rings and the peer's doorbell. */
  rings: ChannelRings | null;
}

/** What a server worker is started with. */
export interface WorkerBoot {
  name: ServerName;
  /** Which incarnation this is (1 = the first). */
  gen: number;
  cfg: KernelConfig;
  machine: Machine;
  counters: SharedArrayBuffer;
  regs: ArrayBufferLike;
  board: Float64Array;
  channels: ChannelGrant[];
  /** Servers this one may call that are down right now: channels to them come later (connect). */
  awaited: { peer: ServerName; gen: number; failed: boolean }[];
  /** Ring signalling: this domain's doorbell. */
  bell: Doorbell;
  /** Shared buffer pools every domain maps (the `shared` transport). */
  pools: PoolMemory[];
  /** A module transport (`transportModule`): every domain's grant table and memory; null without one. */
  grants: GrantMemory | null;
  /** The net server's domain: the NIC's end of the link to the clients. */
  nic: Port | null;
  /** Where this incarnation notes when it first served a message (epoch ms; float64). */
  firstServed: SharedArrayBuffer;
  /** Trace the sampled requests (null: no tracing, and nothing recorded). */
  trace: TraceSettings | null;
}

export interface WorkerControl {
  /**
   * Load the module placed for this server if there is one, then mount,
   * initialise, and open the granted channels; resolves when ready.
   */
  boot(): Promise<void>;
  /** Run the server's own loop, if it has one; resolves when it ends. */
  start(): Promise<void>;
  /**
   * Also the first calls this domain refused for want of a grant, and under ring
   * signalling what its pump did since its run started (host-measured).
   */
  stats(): { pendingCalls: number; heapUsedBytes: number; denied: string[]; pump: PumpCounts | null };
  /** A new incarnation of a peer: the channel to it. */
  connect(grant: ChannelGrant): void;
  /** The supervisor gave up on `peer`: calls to it fail fast from now on. */
  peerFailed(peer: ServerName, gen: number): void;
  /** What this domain traced (empty unless tracing); handed over once, at the end of the run. */
  trace(): TraceRecord[];
}

const data = domainBoot<WorkerBoot>();
const counters = new Counters(data.counters);
const regs = registersOver(data.regs);
const links = new Links(data.name, counters);
const pools = data.pools.map((m) => new PoolMapping(m));
const injector = new FaultInjector(data.name, data.cfg.faults, faultBoardOver(data.board), () => Atomics.load(regs, REG.issued));
const firstServed = new Float64Array(data.firstServed);
const rec = data.trace ? new TraceRecorder(data.trace, `${data.name}#${data.gen}`, domainNo(SERVER_NAMES.indexOf(data.name), data.gen)) : null;
let server: ServerInstance | null = null;
/** A module transport: this domain's grant table and memory, and the module (loaded at boot). */
const grantDomain = data.grants && data.cfg.transportModule !== undefined ? new GrantDomain(data.name, data.grants, counters, data.gen > 1) : null;
let transportModule: TransportModule | null = null;
let pump: Pump | null = null;
/** A garbage fault in a server that answers no calls: its next call is malformed. */
let garbageNext = false;

/** The cache's allocator for this kernel's transport: kept blocks, or pool slots for the disk. */
function cacheBlocks(): BlockAllocator {
  // a module transport: the disk's cache lives in its grantable memory
  if (grantDomain) return data.name === 'disk' ? grantDomain.blocks : heapBlocks;
  switch (data.cfg.transport) {
    case 'copy':
      return heapBlocks;
    case 'transfer':
      return {
        alloc(bytes) {
          const b = new Uint8Array(bytes);
          keptBuffers.add(b.buffer);
          return b;
        },
        free() {},
      };
    case 'shared':
      return data.name === 'disk' && pools[0] ? new PoolBlocks(pools[0], data.gen > 1) : heapBlocks;
  }
}

const codec = codecFor(data.cfg.transport, pools);
/** The codec of the channel to `peer`: a module transport's grants are made for one grantee. */
const codecTo = (peer: ServerName): Codec => (grantDomain && transportModule ? grantCodec(transportModule, grantDomain, peer) : codec);

/** What a garbage fault answers with: a reply of the wrong shape, which the caller's endpoint refuses. */
const garbageReply = (): Reply<unknown> => ({ ok: true, value: { garbage: 'not the reply that was asked for' } });

function noteServed(): void {
  if (firstServed[0] === 0) firstServed[0] = epochMs();
}

/** `msg` to `to` (a name: its current incarnation), pinning what the reply maps into `held`; `reqId`: the traced request it belongs to. */
function call(to: ServerName | Handle, msg: { type: string }, held: Held, reqId?: number): Promise<Reply<unknown>> {
  if (garbageNext) {
    garbageNext = false;
    msg = { type: msg.type, garbage: 'a malformed message' } as { type: string };
  }
  const r = reqId === undefined ? links.call(to, msg, held) : links.call(to, msg, held, reqId);
  // a server that answers no calls (the app) handles the requests it receives
  if (server?.answersNoCalls && RECEIVE_CALLS.has(msg.type)) {
    return r.then((rep) => {
      if (rep.ok) received();
      return rep;
    });
  }
  return r;
}

/** A request taken off a receive: the app's message, where its faults strike. */
function received(): void {
  noteServed();
  counters.add('messagesHandled');
  const strike = injector.before(counters.get('messagesHandled'), false);
  if (strike?.kind === 'garbage') garbageNext = true;
}

const base: ServerContext = {
  name: data.name,
  blocks: cacheBlocks(),
  counters,
  rng: serverRng(data.name, data.machine.seed),
  call: ((to: ServerName | Handle, msg: { type: string }) => call(to, msg, [])) as ServerContext['call'],
  handle: ((to: ServerName) => links.handle(to)) as ServerContext['handle'],
  sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
  // a unit of work of the server's own loop: the pool slots its calls' replies map stay pinned until it ends
  async task(work, reqId) {
    const held: Held = [];
    const traced = rec?.sampled(reqId) ? reqId : undefined;
    const ts = traced === undefined ? 0 : rec!.now();
    try {
      return await work(invocation(held, undefined, traced));
    } finally {
      release(held);
      if (traced !== undefined) rec!.span(traced, 'request', 'request', ts);
    }
  },
};

/**
 * A context for one invocation (from `caller`, if a call): its calls pin what
 * their replies map into `held`, and belong to traced request `reqId` if given.
 */
function invocation(held: Held, caller?: Caller, reqId?: number): ServerContext {
  const bound = (
    reqId === undefined
      ? (to: ServerName | Handle, msg: { type: string }) => call(to, msg, held)
      : (to: ServerName | Handle, msg: { type: string }) => call(to, msg, held, reqId)
  ) as ServerContext['call'];
  // a literal of one shape, not a spread of `base`: one of these is made per message handled
  return {
    name: base.name,
    blocks: base.blocks,
    counters: base.counters,
    rng: base.rng,
    call: bound,
    handle: base.handle,
    sleep: base.sleep,
    task: base.task,
    caller,
  };
}

/** Open the channel of `grant`, replacing any channel to an earlier incarnation of that peer. */
function open(grant: ChannelGrant): void {
  const port = openChannel(data.cfg.signal, grant.port, pump && grant.rings ? { rings: grant.rings, pump, counters } : null);
  const caller: Caller = { server: grant.peer, gen: grant.peerGen };
  const ep = new Endpoint(port, {
    counters,
    codec: codecTo(grant.peer),
    deadlineMs: data.cfg.callTimeoutMs,
    onCall: grant.peerMayCall
      ? (m, held, reqId) => {
          noteServed();
          return handleMessage(server!, injector, m, invocation(held, caller, reqId), garbageReply);
        }
      : null,
    onCrash: (e) => crashDomain(e),
    label: `${data.name}<->${grant.peer}`,
    // every message is checked against the protocol's shapes where it is received
    shapes: { server: data.name, peer: grant.peer, maxPayloadBytes: MAX_PAYLOAD_BYTES },
    trace: rec ? { rec, self: data.name, peer: grant.peer } : null,
  });
  const token = links.up(grant.peer, grant.peerGen, ep, grant.mayCall);
  // the peer's domain died: its handle is down until the kernel connects its next incarnation
  grant.port.on('close', () => {
    // what that incarnation held here goes with it, whatever came after it
    if (grant.peerMayCall) server?.clientDied(caller, false);
    links.down(token);
  });
}

const control: WorkerControl = {
  async boot() {
    // a module placed for this server (a test's) is loaded before anything else happens
    const placed = await placedModules(data.cfg, [data.name]);
    if (data.cfg.transportModule !== undefined) transportModule = await loadTransportModule(data.cfg.transportModule);
    for (const a of data.awaited) links.awaiting(a.peer, a.gen, a.failed);
    const nic = data.nic ? await openDevice(data.nic, data.cfg, regs) : null;
    const device = nic ?? { transmit: () => {} };
    pump = data.cfg.signal === 'ring' ? new Pump(data.bell, data.cfg.spinUs) : null;
    // the channels first: a server takes its handles on the others at init
    for (const ch of data.channels) open(ch);
    server = bootByName(data.name, data.cfg, { machine: data.machine, device }, base, placed);
    const srv = server;
    // the wire's requests all come from the device: one context for them, made once
    const fromDevice: ServerContext = { ...base, caller: DEVICE_CALLER };
    nic?.attach((msg, flow) => {
      const traced = flow !== undefined && msg.type === 'NET_RECV' && rec?.sampled(msg.reqId) ? msg.reqId : undefined;
      const ts = traced === undefined ? 0 : rec!.now();
      try {
        const r = handleMessage(srv, injector, msg, fromDevice, garbageReply);
        if (traced !== undefined) {
          rec!.recv(traced, flow!, ts);
          rec!.slice(traced, `${data.name}: NET_RECV from the wire`, 'handler', ts);
        }
        return r instanceof Promise ? r.catch((e) => crashDomain(e)) : r;
      } catch (e) {
        return crashDomain(e);
      }
    });
  },

  async start() {
    // the pump's counts are the run's: what booting and waiting for the run did is not counted
    pumpCounts.turns = pumpCounts.sleeps = pumpCounts.notifies = 0;
    try {
      await server!.start();
    } catch (e) {
      crashDomain(e);
    }
  },

  stats() {
    return { pendingCalls: links.pendingCalls, heapUsedBytes: process.memoryUsage().heapUsed, denied: [...links.denied], pump: pump ? { ...pumpCounts } : null };
  },

  connect(grant) {
    open(grant);
  },

  peerFailed(peer, gen) {
    if (links.failed(peer, gen)) server?.clientDied({ server: peer, gen }, true);
  },

  trace() {
    return rec ? rec.drain() : [];
  },
};

serveControl(control);
