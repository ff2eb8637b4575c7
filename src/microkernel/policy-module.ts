/**
 * The restart-policy extension point: the microkernel's supervisor can take
 * its restart decisions from a module file (`restartPolicy` in run()'s
 * options, `--restart-policy FILE` on the command line) instead of the shipped
 * `decideRestart` (supervisor.ts: restart at once, back off exponentially,
 * give up past `maxRestarts` restarts within `restartWindowMs`).
 *
 * The supervisor runs in the harness thread, so the module is loaded there,
 * once per run, before the servers boot. A `.js` (or `.mjs`) file loads
 * anywhere. A `.ts` file loads as it is under tsx or vitest (running from
 * sources), and from the built CLI through tsx's loader API when tsx is
 * installed (it is a development dependency of this package); without tsx a
 * `.ts` policy is refused with an Error saying so, and a `.js` one must be used.
 *
 * A policy decides synchronously, as the supervisor must. One that throws, or
 * returns anything but a decision, gives the server up: the reason (what the
 * policy did wrong) is in the fault record's message of the report, and the
 * harness carries on.
 */
import { importModuleFile, ModuleError } from '../module-file.js';
import { resolve } from 'node:path';
import type { ServerName } from '../protocol.js';
import type { FaultRecord } from '../kernel.js';
import { decideRestart, DEFAULT_BACKOFF_MS, MAX_BACKOFF_MS, type RestartDecision } from './supervisor.js';

export type { RestartDecision } from './supervisor.js';

/** What a restart policy is told when a server fails. */
export interface RestartRequest {
  /** The server that failed. */
  server: ServerName;
  /** How it failed: a crash (a throw), an exit of its thread, out of memory, or a hang (missed heartbeats). */
  kind: FaultRecord['kind'];
  /** The incarnation that failed (1 = the first). */
  incarnation: number;
  /** Epoch ms of each earlier restart of this server the policy decided, oldest first (empty at its first failure). */
  history: readonly number[];
  /** Epoch ms now: when the supervisor noticed the failure. */
  now: number;
  /** The configured restart intensity: at most `maxRestarts` restarts within any `restartWindowMs` ms. */
  budget: { maxRestarts: number; restartWindowMs: number };
}

/**
 * A restart policy: given a failure, restart the server after `delayMs` ms
 * (`{ restart: true, delayMs }`, delayMs a finite number from 0 to
 * MAX_DELAY_MS) or give it up (`{ restart: false, reason }`, reason a
 * string): calls to it then fail fast with ESERVERFAILED. Synchronous.
 */
export type RestartPolicyFunction = (request: RestartRequest) => RestartDecision;

/** What a policy module exports as `policy` (named or default): the function, or an object with it as `decide`. */
export type RestartPolicyExport = RestartPolicyFunction | { decide: RestartPolicyFunction };

/** The longest delay a policy may ask for, ms (a timer's limit: about 24.8 days). */
export const MAX_DELAY_MS = 2_147_483_647;

/** The shipped policy (supervisor.ts's decideRestart) as a RestartPolicyFunction: the default. */
export const defaultRestartPolicy: RestartPolicyFunction = (r) =>
  decideRestart(r.history, r.now, { ...r.budget, backoffMs: DEFAULT_BACKOFF_MS, maxBackoffMs: MAX_BACKOFF_MS });

/** What is wrong with `value` as a policy module's export `policy`; empty if nothing. */
function policyProblems(value: unknown): string[] {
  if (typeof value === 'function') return [];
  if (value === undefined) return ['no export `policy` (a default or named export `policy` is needed: a function, or an object with a `decide` function)'];
  if (typeof value !== 'object' || value === null) return [`its export \`policy\` is ${value === null ? 'null' : `a ${typeof value}`}, not a function or an object with a \`decide\` function`];
  const decide = (value as Record<string, unknown>).decide;
  return typeof decide === 'function' ? [] : [`\`policy.decide\` must be a function, got ${decide === undefined ? 'nothing' : typeof decide}`];
}


/**
 * Import the restart-policy module `file` (a path, absolute or relative to
 * the working directory) and check its export `policy` (a default or named
 * export): a RestartPolicyFunction, or an object with one as `decide`.
 * Rejects with an Error naming the file and what is missing or wrong.
 */
export async function loadRestartPolicy(file: string): Promise<RestartPolicyFunction> {
  const path = resolve(file);
  let ns: Record<string, unknown>;
  try {
    ns = await importModuleFile(path);
  } catch (e) {
    throw new ModuleError(`restart policy ${path} could not be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const value = 'policy' in ns ? ns.policy : ns.default;
  const problems = policyProblems(value);
  if (problems.length) throw new ModuleError(`restart policy ${path}: ${problems.join('; ')}`);
  if (typeof value === 'function') return value as RestartPolicyFunction;
  const obj = value as { decide: RestartPolicyFunction };
  return (r) => obj.decide(r);
}

/** What is wrong with `d` as a decision; null if nothing. */
function decisionProblem(d: unknown): string | null {
  if (typeof d !== 'object' || d === null) return `returned ${d === null ? 'null' : typeof d === 'undefined' ? 'nothing' : `a ${typeof d}`}, not a decision`;
  if (typeof (d as { then?: unknown }).then === 'function') return 'returned a Promise: a policy must decide synchronously';
  const o = d as Record<string, unknown>;
  if (o.restart === true) {
    const ms = o.delayMs;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_DELAY_MS) {
      return `returned { restart: true } with delayMs ${typeof ms === 'number' ? ms : JSON.stringify(ms) ?? String(ms)}: it must be a number from 0 to ${MAX_DELAY_MS}`;
    }
    return null;
  }
  if (o.restart === false) return typeof o.reason === 'string' ? null : 'returned { restart: false } without a string `reason`';
  return `returned ${short(d)}: a decision is { restart: true, delayMs } or { restart: false, reason }`;
}

function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Ask `policy` for a decision, never throwing: a policy that throws or
 * returns anything but a decision gives the server up, with a reason that
 * says so (`label` names the policy in it).
 */
export function decideSafely(policy: RestartPolicyFunction, request: RestartRequest, label = 'the restart policy'): RestartDecision {
  let d: unknown;
  try {
    d = policy(request);
  } catch (e) {
    return { restart: false, reason: `${label} threw: ${e instanceof Error ? e.message : String(e)}` };
  }
  const problem = decisionProblem(d);
  if (problem !== null) return { restart: false, reason: `${label} ${problem}` };
  const o = d as RestartDecision;
  return o.restart ? { restart: true, delayMs: o.delayMs } : { restart: false, reason: o.reason };
}
