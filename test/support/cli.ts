/**
 * The command line as a child process: `node dist/cli.js ...` started from the
 * repo root. `npm test` builds dist/ from these sources first (pretest), and
 * the compiled CLI starts in a fraction of the time `node --import tsx
 * src/cli.ts` takes, which compiles the sources at every start.
 */
import { spawn, spawnSync, type SpawnOptions, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { TEST_NODE_FLAGS } from './node-flags.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The compiled command line, by its absolute path (so it runs from any working directory). */
export const CLI = join(ROOT, 'dist', 'cli.js');

/** Run the CLI with `args` from the repo root; `options` (timeout, env, cwd, ...) go to spawnSync. */
export function spawnCli(args: readonly string[], options: Partial<SpawnSyncOptionsWithStringEncoding> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...TEST_NODE_FLAGS, CLI, ...args], { cwd: ROOT, encoding: 'utf8', ...options });
}

/** What a child process left: as spawnSync's result, without the pid and output array. */
export interface Exited {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/**
 * `exe args` as spawnSync runs it, but without blocking this thread, so that
 * independent children can run side by side: resolves (never rejects) once it
 * has exited and its output is read. `timeout` kills it with SIGTERM and sets
 * `error`, as spawnSync's does.
 */
export function spawnAsync(exe: string, args: readonly string[], options: SpawnOptions & { timeout?: number; input?: string } = {}): Promise<Exited> {
  const { timeout, input, ...rest } = options;
  // a node child runs with the forks' V8 flags (node-flags.ts says why)
  const argv = exe === process.execPath ? [...TEST_NODE_FLAGS, ...args] : args;
  return new Promise((resolve) => {
    const child = spawn(exe, argv, { cwd: ROOT, ...rest, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let error: Error | undefined;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => (error = e));
    const guard = timeout
      ? setTimeout(() => {
          error = Object.assign(new Error(`spawn ${exe} ETIMEDOUT`), { code: 'ETIMEDOUT' });
          child.kill('SIGTERM');
        }, timeout)
      : undefined;
    child.on('close', (status, signal) => {
      clearTimeout(guard);
      resolve({ status, signal, stdout, stderr, ...(error ? { error } : {}) });
    });
    child.stdin!.end(input);
  });
}

/**
 * At most `n` of the tasks given to the returned function run at once; the
 * others wait their turn in the order given.
 */
export function limit(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // a finishing task hands its place straight to the next in line
    if (running < n) running++;
    else await new Promise<void>((go) => waiting.push(go));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/** What the command line answered in this process: its exit code and what it wrote where. */
export interface Answered {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The command line run in this process (`main()` of src/cli/main.ts) with
 * captured output and `--no-color`: for tests of what it says and its exit
 * code, not of the process (signals, the real stdout, the exit itself).
 */
export async function runCli(args: readonly string[]): Promise<Answered> {
  const { main } = await import('../../src/cli/main.js');
  let stdout = '';
  let stderr = '';
  const code = await main([...args, '--no-color'], { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}
