/**
 * The one seam between microlith and Node's threads: a protection domain.
 *
 * Both kernels use it: the monolith runs its one domain (the whole kernel) off
 * the harness's thread, the microkernel runs one domain per server, and the
 * supervisor restarts them. Apart from this file only src/microkernel (channels,
 * rings, the echo peer of `bench ipc`) knows about `worker_threads`.
 *
 * Parent side: `startDomain` starts the thread (compiled `.js`, or `.ts` through
 * tsx's loader when running from sources), with an empty environment (its
 * `process.env` holds nothing of the harness's), without the process-wide
 * channels (see DOMAIN_PRELUDE), with a JS heap limit, its comlink
 * control plane, an exit promise, the crash note the domain leaves when it dies
 * on purpose, and `terminate`. `watchHeartbeats` pings domains' control planes
 * on an injectable clock and reports the silent ones.
 *
 * Domain side: `domainBoot` is what the domain was started with,
 * `serveControl` exposes its control plane, `crashDomain` leaves the reason
 * and stops the domain at once (fail-stop).
 *
 * comlink calls pending on a dead domain never settle, so every control call
 * from the parent goes through `Domain.control`, which races it with the exit.
 */
import { DIST_URL } from '../paths.js';
import { bundleCode, cacheRefused, keepCode, type BundleCode, type CodeState } from './code-cache.js';
import { MessageChannel, parentPort, Worker, workerData, type MessagePort, type WorkerOptions } from 'node:worker_threads';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

export type DomainModule = 'microkernel/worker' | 'microkernel/echo-worker' | 'harness/monolithic-host';

/** A channel end between domains (holding one is the capability to use it). */
export type Port = MessagePort;

/** A new channel: two connected ends, one for each side. */
export function newChannel(): { port1: Port; port2: Port } {
  const { port1, port2 } = new MessageChannel();
  return { port1, port2 };
}

const CRASH_NOTE_BYTES = 1024;

interface Envelope<B> {
  boot: B;
  crashNote: SharedArrayBuffer;
  /** One Int32 cell: the domain's thread id in the operating system (Linux), written before its modules load; 0 unknown. */
  tid: SharedArrayBuffer;
  /** The bundle to compile, its code cache, and the port the thread answers about it on (DOMAIN_LOADER); none from sources. */
  code?: { filename: string; source: string; cachedData: Uint8Array | null; port: MessagePort };
}

/**
 * A thread's time as the operating system's scheduler counts it (Linux's
 * schedstat, nanoseconds): on a core, and runnable but waiting for one. The
 * event loop's utilisation counts both as busy, since it measures wall time.
 */
export interface ThreadCpu {
  onCpuMs: number;
  runQueueMs: number;
}

export interface DomainOptions<B> {
  module: DomainModule;
  /** The thread's name (shows in profiles and debuggers). */
  name: string;
  boot: B;
  /** Ports (or buffers) in `boot` that move to the domain. */
  transfer?: readonly (Port | ArrayBuffer)[];
  /** JS heap limit, MiB: a domain past it dies out of memory, and only it. */
  heapLimitMb?: number;
  /** The domain will import TypeScript files of its own (a placed server module): it needs tsx's loader. */
  loadsTypeScript?: boolean;
  /** What the domain runs (a server's name): threads of one role call the same functions, so they share a code cache. */
  role?: string;
}

/** How long Domain.stop waits for a thread's compiled code before it terminates the thread anyway. */
const CODE_WAIT_MS = 500;

/** Why a control call got no answer: the domain exited first. */
export const GONE: unique symbol = Symbol('domain gone');

export class Domain<C> {
  private readonly worker: Worker;
  private readonly remote: Comlink.Remote<C>;
  private readonly crashNote = new SharedArrayBuffer(CRASH_NOTE_BYTES);
  private readonly tid = new SharedArrayBuffer(4);
  private errorText: string | null = null;
  private oom = false;
  private terminating: Promise<void> | null = null;
  private code: number | null = null;
  /** Resolves with the exit code once the thread has stopped. */
  readonly exited: Promise<number>;

  /** The bundle this thread compiled, and the port it answers about its code on; null when started from the per-file modules or sources. */
  private readonly bundle: BundleCode | null = null;
  private readonly codePort: MessagePort | null = null;
  private codeSaid: CodeState | null = null;
  private codeTold: (s: CodeState | null) => void = () => {};
  private codeTaken: ((data: Uint8Array | null) => void) | null = null;
  /** What the thread says of its compiled code, once it has said it (null if it exits first, or runs from sources). */
  readonly codeState: Promise<CodeState | null>;

  constructor(readonly name: string, opts: DomainOptions<unknown>) {
    const envelope: Envelope<unknown> = { boot: opts.boot, crashNote: this.crashNote, tid: this.tid };
    const transfer = [...(opts.transfer ?? [])] as NonNullable<WorkerOptions['transferList']>;
    const bundle = compiledBundle(opts.module, opts.loadsTypeScript === true);
    if (bundle) {
      const { port1, port2 } = new MessageChannel();
      this.bundle = bundleCode(bundle, opts.role ?? 'domain');
      this.codePort = port1;
      envelope.code = { filename: this.bundle.filename, source: this.bundle.source, cachedData: this.bundle.cachedData, port: port2 };
      transfer.push(port2);
      port1.on('message', (m: CodeState | Uint8Array) => this.heard(m));
      port1.unref();
    }
    this.worker = startWorker(opts.module, opts.loadsTypeScript === true, {
      // nothing of the harness's environment: a domain gets what its boot gives it
      env: {},
      workerData: envelope,
      transferList: transfer,
      name: opts.name,
      ...(opts.heapLimitMb ? { resourceLimits: { maxOldGenerationSizeMb: opts.heapLimitMb } } : {}),
    });
    // an 'error' listener keeps a domain's uncaught throw from reaching the harness
    this.worker.on('error', (e) => {
      this.errorText ??= errorText(e);
      if ((e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') this.oom = true;
    });
    this.exited = new Promise((res) =>
      this.worker.once('exit', (code) => {
        this.code = code;
        res(code);
      }),
    );
    this.codeState = this.bundle ? new Promise((res) => ((this.codeTold = res), void this.exited.then(() => res(null)))) : Promise.resolve(null);
    this.remote = Comlink.wrap<C>(nodeEndpoint(this.worker));
  }

  get alive(): boolean {
    return this.code === null;
  }

  get exitCode(): number | null {
    return this.code;
  }

  /** It died because its JS heap passed its limit. */
  get outOfMemory(): boolean {
    return this.oom;
  }

  /**
   * Why the domain died: the reason it left in its crash note, else the
   * uncaught error (e.g. ERR_WORKER_OUT_OF_MEMORY), else its exit code.
   */
  reason(): string {
    const n = Atomics.load(new Int32Array(this.crashNote), 0);
    if (n > 0) return new TextDecoder().decode(new Uint8Array(this.crashNote, 4, n).slice());
    return this.errorText ?? `its thread exited with code ${this.code ?? '?'}`;
  }

  /** Call the control plane; GONE if the domain exits before it answers (or rejects). */
  async control<T>(f: (ctl: Comlink.Remote<C>) => Promise<T>): Promise<T | typeof GONE> {
    if (!this.alive) return GONE;
    const gone = this.exited.then(() => GONE);
    try {
      return (await Promise.race([f(this.remote), gone])) as T | typeof GONE;
    } catch (e) {
      if (!this.alive) return GONE;
      throw e;
    }
  }

  /** Event-loop utilisation of the domain's thread since `since` (0..1; 0 once it is gone). */
  utilisation(since?: ReturnType<Domain<C>['eluMark']>): number {
    if (!this.alive) return 0;
    return this.worker.performance.eventLoopUtilization(since).utilization || 0;
  }

  eluMark() {
    return this.worker.performance.eventLoopUtilization();
  }

  /**
   * The thread's scheduler times so far (host-measured), or null: on a system
   * without /proc's schedstat, or once the thread is gone.
   */
  cpuMark(): ThreadCpu | null {
    const tid = Atomics.load(new Int32Array(this.tid), 0);
    if (!this.alive || tid <= 0) return null;
    return threadCpu(tid);
  }

  /** The scheduler times since `since` (a cpuMark), or null if either end is unknown. */
  cpuSince(since: ThreadCpu | null): ThreadCpu | null {
    const now = this.cpuMark();
    return now && since ? { onCpuMs: now.onCpuMs - since.onCpuMs, runQueueMs: now.runQueueMs - since.runQueueMs } : null;
  }

  /** Stop the thread (a busy loop stops in a few ms); resolves once it is gone. */
  terminate(): Promise<void> {
    this.terminating ??= (async () => {
      this.remote[Comlink.releaseProxy]();
      this.codePort?.close();
      await this.worker.terminate();
      await this.exited;
    })();
    return this.terminating;
  }

  /**
   * End a domain that served its run to the end: if the cache has no good code for
   * its role yet, first take what the thread compiled (waiting at most
   * CODE_WAIT_MS), then terminate it. A failed domain is terminated, not stopped.
   */
  async stop(): Promise<void> {
    const b = this.bundle;
    if (b && !b.asked && this.alive && this.terminating === null && (this.codeSaid === 'cold' || this.codeSaid === 'rejected')) {
      b.asked = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const data = await new Promise<Uint8Array | null>((res) => {
        this.codeTaken = res;
        timer = setTimeout(res, CODE_WAIT_MS, null);
        void this.exited.then(() => res(null));
        this.codePort!.postMessage('code');
      });
      clearTimeout(timer);
      this.codeTaken = null;
      if (data) keepCode(b, data);
    }
    return this.terminate();
  }

  /** The thread's word on its code: what V8 did with the cache (a refused one is given to no more threads), or what it compiled. */
  private heard(m: CodeState | Uint8Array): void {
    if (m instanceof Uint8Array) {
      this.codeTaken?.(m);
      return;
    }
    this.codeSaid = m;
    this.codeTold(m);
    if (m === 'rejected') cacheRefused(this.bundle!);
  }
}

/** Start a domain running `opts.module`. */
export function startDomain<C, B>(opts: DomainOptions<B>): Domain<C> {
  return new Domain<C>(opts.name, opts);
}

/**
 * What a domain's thread runs before any of its modules (and so before any
 * server's code): it takes away the ways to reach other threads of the process
 * without holding a port to them. A channel between domains is a capability
 * only if holding an end of it is the only way to use it, and these are not:
 *
 *   BroadcastChannel     a `new BroadcastChannel('disk')` reaches every holder
 *                        of that name in the process (deleted from globalThis
 *                        and from node:worker_threads)
 *   postMessageToThread  reaches any thread by its id
 *   Worker               a thread started from a domain gets a fresh global
 *                        with BroadcastChannel in it again
 *
 * No domain uses any of them (the kernel starts every thread from the
 * harness's side). syncBuiltinESMExports makes `import { ... } from
 * 'node:worker_threads'` see the same. This closes the in-process channels only:
 * a thread still shares its process's file system, sockets, and launch
 * environment (/proc/self/environ); only a process boundary closes those.
 *
 * It also leaves the thread's id in the operating system (on Linux, where
 * /proc/thread-self names it) in the envelope's `tid` cell, so that the harness
 * can read the thread's scheduler times without asking it (Domain.cpuMark).
 */
const DOMAIN_PRELUDE = `{
  delete globalThis.BroadcastChannel;
  const wt = require('node:worker_threads');
  try {
    const self = require('node:fs').readlinkSync('/proc/thread-self');
    Atomics.store(new Int32Array(wt.workerData.tid), 0, Number(self.slice(self.lastIndexOf('/') + 1)) || 0);
  } catch {}
  for (const k of ['BroadcastChannel', 'postMessageToThread', 'Worker']) delete wt[k];
  require('node:module').syncBuiltinESMExports();
}`;

/**
 * How a thread runs its bundle (CommonJS, compiled as `require` would, which
 * spares it the start of Node's ES module loader), with the code cache the
 * harness passed (src/harness/code-cache.ts): it says on the envelope's port
 * whether V8 took the cache, and when it had none (or a refused one), hands over
 * what it has compiled once asked, at the end of its run.
 */
const DOMAIN_LOADER = `{
  const wt = require('node:worker_threads');
  const vm = require('node:vm');
  const code = wt.workerData.code;
  delete wt.workerData.code;
  const script = new vm.Script(require('node:module').wrap(code.source), {
    filename: code.filename,
    cachedData: code.cachedData ?? undefined,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  // code started from V8's cache cannot import() on Node 20 (its script's import callback is lost): src/dynamic-import.ts imports through this
  globalThis.__microlithImport = (specifier) => import(specifier);
  const said = code.cachedData === null ? 'cold' : script.cachedDataRejected ? 'rejected' : 'cached';
  code.port.postMessage(said);
  if (said === 'cached') code.port.close();
  else {
    code.port.once('message', () => code.port.postMessage(script.createCachedData()));
    code.port.unref();
  }
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, require, module, code.filename, require('node:path').dirname(code.filename));
}`;

/** Whether a domain of `module` runs from the compiled build, not through tsx. */
function runsCompiled(loadsTypeScript: boolean): boolean {
  // running from sources, the domains may still run the compiled build (`npm test` builds it
  // from the same sources first): a thread then starts in a fraction of the time tsx takes
  return !import.meta.url.endsWith('.ts') || (process.env.MICROLITH_DOMAINS === 'dist' && !loadsTypeScript);
}

/** The bundle (dist/domains/NAME.cjs) a domain of `module` compiles with DOMAIN_LOADER, or null: it imports its module instead. */
function compiledBundle(module: DomainModule, loadsTypeScript: boolean): string | null {
  // a domain that loads TypeScript starts through tsx, which imports the bundle itself
  if (loadsTypeScript || !runsCompiled(false)) return null;
  const url = domainEntry(module, DIST_URL);
  return url.pathname.endsWith('.cjs') ? fileURLToPath(url) : null;
}

/**
 * Start a thread for `module`: the prelude, then the compiled module (its bundle,
 * through DOMAIN_LOADER, or `<module>.js`, as domainEntry picks), or,
 * when running from TypeScript sources (tests, tsx), `<module>.ts` through tsx's
 * loader (a worker cannot load .ts files by itself). Modules are named from src/.
 */
function startWorker(module: DomainModule, loadsTypeScript: boolean, options: WorkerOptions): Worker {
  // the bundle the constructor found (compiledBundle) travels in the envelope
  if ((options.workerData as Envelope<unknown>).code !== undefined) return new Worker(`${DOMAIN_PRELUDE}\n${DOMAIN_LOADER};`, { ...options, eval: true });
  const compiled = runsCompiled(loadsTypeScript);
  const url = compiled ? domainEntry(module, DIST_URL) : new URL(`../${module}.ts`, import.meta.url);
  const entry = JSON.stringify(url.href);
  if (compiled && !loadsTypeScript) return new Worker(`${DOMAIN_PRELUDE}\nimport(${entry});`, { ...options, eval: true });
  // tsx resolved here, so a domain started from any working directory finds it
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const loader = compiled
    ? `${DOMAIN_PRELUDE}\nimport(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`
    : `${DOMAIN_PRELUDE}\nimport(${tsx}).then((tsx) => tsx.tsImport(${entry}, ${entry}));`;
  return new Worker(loader, { ...options, eval: true });
}

/**
 * The compiled module a domain starts from, in the build `dist`: its bundle
 * (dist/domains/NAME.cjs, one CommonJS file that `npm run build` makes from the module
 * and all it imports, so the thread loads one module instead of some thirty), or the
 * per-file module itself: with MICROLITH_UNBUNDLED=1, without a bundle, or with a
 * bundle older than the module (a compile without the bundling step), never a
 * stale bundle.
 */
export function domainEntry(module: DomainModule, dist: URL, env: NodeJS.ProcessEnv = process.env): URL {
  const file = new URL(`${module}.js`, dist);
  if (env.MICROLITH_UNBUNDLED === '1') return file;
  const bundle = new URL(`domains/${module.slice(module.lastIndexOf('/') + 1)}.cjs`, dist);
  const made = statSync(bundle, { throwIfNoEntry: false });
  return made && made.mtimeMs >= (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) ? bundle : file;
}

/** Thread `tid` of this process: its scheduler times (Linux's /proc/self/task/TID/schedstat), or null. */
export function threadCpu(tid: number): ThreadCpu | null {
  try {
    const [onCpuNs, waitNs] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ').map(Number);
    return Number.isFinite(onCpuNs) && Number.isFinite(waitNs) ? { onCpuMs: onCpuNs / 1e6, runQueueMs: waitNs / 1e6 } : null;
  } catch {
    return null;
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: string }).code;
    return code === 'ERR_WORKER_OUT_OF_MEMORY' ? `out of memory: ${e.message}` : e.message;
  }
  return String(e);
}

// ---------------------------------------------------------------- domain side

/** What this domain was started with (inside a domain only). */
export function domainBoot<B>(): B {
  return (workerData as Envelope<B>).boot;
}

/** Expose this domain's control plane to the parent. */
export function serveControl(control: object): void {
  Comlink.expose(control, nodeEndpoint(parentPort!));
}

/** Leave `why` in the crash note, for the parent to read after the exit. */
export function leaveNote(why: unknown): void {
  const note = (workerData as Envelope<unknown> | null)?.crashNote;
  if (!note) return; // not in a domain (a test driving a kernel in its own thread)
  const text = new TextEncoder().encode(why instanceof Error ? why.message : String(why)).subarray(0, note.byteLength - 4);
  new Uint8Array(note, 4).set(text);
  Atomics.store(new Int32Array(note), 0, text.length);
}

/** The domain failed: leave the reason and stop now (fail-stop). */
export function crashDomain(why: unknown, code = 1): never {
  leaveNote(why);
  process.exit(code);
}

// ----------------------------------------------------------------- heartbeats

/** The clock heartbeats run on (injected by tests). */
export interface HeartbeatClock {
  now(): number;
  every(ms: number, f: () => void): () => void;
}

export const hostHeartbeatClock: HeartbeatClock = {
  now: () => performance.now(),
  every(ms, f) {
    const t = setInterval(f, ms);
    t.unref();
    return () => clearInterval(t);
  },
};

export interface HeartbeatTarget {
  name: string;
  ping(): Promise<unknown>;
  /** True once the domain has exited: no more heartbeats expected. */
  gone(): boolean;
}

/**
 * Watch `targets`: a domain that has not answered a ping for `timeoutMs` is
 * hung (an infinite loop, a deadlock), and `onHung` is called once for it. A
 * busy domain still answers: a ping waits only for its event loop's next turn.
 * Targets may be added later (a restarted domain). Returns a stop function.
 */
export function watchHeartbeats(
  timeoutMs: number,
  onHung: (name: string, silentMs: number) => void,
  clock: HeartbeatClock = hostHeartbeatClock,
): { add(t: HeartbeatTarget): void; stop(): void } {
  const watched = new Map<HeartbeatTarget, { lastAnswer: number; outstanding: boolean }>();
  const period = Math.max(20, Math.min(500, timeoutMs / 4));
  const stop = clock.every(period, () => {
    const now = clock.now();
    for (const [t, w] of watched) {
      if (t.gone()) {
        watched.delete(t);
        continue;
      }
      const silent = now - w.lastAnswer;
      if (silent > timeoutMs) {
        watched.delete(t);
        onHung(t.name, silent);
        continue;
      }
      if (w.outstanding) continue;
      w.outstanding = true;
      t.ping().then(
        () => {
          w.outstanding = false;
          w.lastAnswer = clock.now();
        },
        () => (w.outstanding = false),
      );
    }
  });
  return {
    add: (t) => watched.set(t, { lastAnswer: clock.now(), outstanding: false }),
    stop,
  };
}

/** Send `value` over a control call with `ports` moved, not copied. */
export function withTransfer<T>(value: T, ports: Port[]): T {
  return Comlink.transfer(value, ports as never);
}
