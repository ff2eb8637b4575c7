/**
 * Fault plans: which server fails, how, and when. Data only; the kernels inject
 * them (faults/inject.ts) and the harness reports what became of each.
 *
 * Kinds (what the server does when the fault strikes):
 *   crash    throws out of its handler (fail-stop)
 *   exit     its thread exits (process.exit in its domain)
 *   hang     spins forever: only a missed heartbeat gets it out
 *   oom      grows its JS heap past the domain's heap limit
 *   garbage  answers the message with a malformed reply
 *   lose     (disk only) acknowledges its next write without putting it on the media
 *
 * Triggers (when it strikes: at the server's first message at or after):
 *   message=N  its Nth message (counted over all its incarnations)
 *   request=N  the wire has sent N requests
 *   ms=T       T ms after the clients started
 *
 * As text (the CLI's --fault, or a string in the library's `faults`):
 * `SERVER:KIND@TRIGGER`, e.g. `disk:crash@message=1000`, `net:hang@ms=200`,
 * `app:oom@request=50`. `:KIND` may be left out (a crash), and a bare number
 * as TRIGGER is a message number, so the older forms read the same:
 * `disk@1000` is `disk:crash@message=1000`, `app@500:hang` is
 * `app:hang@message=500`. A random plan, `random:count=K[,seed=S]`, draws K
 * faults from its seed (`randomFaultPlan`).
 */
import seedrandom from 'seedrandom';
import { SERVER_NAMES, type ServerName } from '../protocol.js';
import { RANGES, inRange, rangeText } from '../limits.js';

/** What a server does when its fault strikes: crash, exit, hang, oom, garbage (a malformed reply) or lose (disk only: an acknowledged write never reaches the media). */
export type FaultKind = 'crash' | 'exit' | 'hang' | 'oom' | 'garbage' | 'lose';
/** Every fault kind, in the order messages list them. */
export const FAULT_KINDS: readonly FaultKind[] = ['crash', 'exit', 'hang', 'oom', 'garbage', 'lose'];

/** What a trigger counts: the server's messages, the requests the wire has sent, or ms since the clients started. */
export type TriggerKind = 'message' | 'request' | 'ms';
/** Every trigger kind: message, request, ms. */
export const TRIGGER_KINDS: readonly TriggerKind[] = ['message', 'request', 'ms'];

/** When a fault strikes: at the server's first message at or after `at` on the `on` count. */
export interface FaultTrigger {
  on: TriggerKind;
  /** message or request number (>= 1), or milliseconds (>= 0). */
  at: number;
}

/** One planned fault: which server fails, how, and when (`SERVER:KIND@TRIGGER` as text). */
export interface FaultSpec {
  server: ServerName;
  kind: FaultKind;
  trigger: FaultTrigger;
}

/** The text form, for messages. */
export const FAULT_SPEC_FORM = 'SERVER:KIND@TRIGGER (e.g. disk:crash@message=1000)';
export const RANDOM_PLAN_FORM = 'random:count=K[,seed=S]';
const TRIGGER_FORMS = 'message=N, request=N, ms=T';

/**
 * A fault's text that does not parse. `message` is `'<text>': <problem>`,
 * so it reads as it is (`'disk:melt@message=3': unknown kind 'melt'; kinds: ...`)
 * and after an option's name (`--fault 'disk:melt@message=3': ...`,
 * `faults.0 'disk:melt@message=3': ...`).
 */
export class FaultSpecError extends Error {
  /** The text given. */
  readonly text: string;
  /** What is wrong with it, and the expected form: the message without the text. */
  readonly problem: string;

  constructor(text: string, problem: string) {
    super(`'${text}': ${problem}`);
    this.name = 'FaultSpecError';
    this.text = text;
    this.problem = problem;
  }
}

/** Whether a fault of `kind` can strike `server` (only the disk has writes to lose). */
export function faultApplies(server: ServerName, kind: FaultKind): boolean {
  return kind !== 'lose' || server === 'disk';
}

/** The least `at` of a trigger: message and request numbers count from 1, milliseconds from 0. */
export function triggerMin(on: TriggerKind): number {
  return on === 'ms' ? 0 : 1;
}

const TRIGGER_UNIT: Record<TriggerKind, string> = { message: 'N', request: 'N', ms: 'T' };

/** `'5'` -> 5: a whole number of at most 15 digits, or undefined. */
function wholeNumber(text: string): number | undefined {
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/**
 * Parse one fault: `SERVER:KIND@TRIGGER` with TRIGGER `message=N`, `request=N`
 * (integers >= 1) or `ms=T` (an integer >= 0); also `SERVER@TRIGGER` (a crash),
 * a bare number N as TRIGGER (`message=N`), and the older `SERVER@N:KIND`.
 * Throws a FaultSpecError saying what is wrong.
 */
export function parseFaultSpec(text: string): FaultSpec {
  const bad = (problem: string) => new FaultSpecError(String(text), problem);
  if (typeof text !== 'string' || text === '') throw bad(`is empty; expected ${FAULT_SPEC_FORM}`);
  const at = text.indexOf('@');
  if (at < 0) throw bad(`has no '@TRIGGER'; expected ${FAULT_SPEC_FORM}`);
  const [server, headKind, ...more] = text.slice(0, at).split(':');
  if (more.length) throw bad(`has more than one ':' before '@'; expected ${FAULT_SPEC_FORM}`);
  let tail = text.slice(at + 1);
  let kind = headKind;
  // the older form puts the kind after the message number: SERVER@N:KIND
  const legacy = /^(\d+):(.*)$/.exec(tail);
  if (legacy) {
    if (kind !== undefined) throw bad(`gives the kind twice ('${kind}' and '${legacy[2]}'); expected ${FAULT_SPEC_FORM}`);
    [tail, kind] = [legacy[1], legacy[2]];
  }
  if (server === '') throw bad(`names no server; servers: ${SERVER_NAMES.join(', ')}`);
  if (!SERVER_NAMES.includes(server as ServerName)) throw bad(`unknown server '${server}'; servers: ${SERVER_NAMES.join(', ')}`);
  if (kind === '') throw bad(`names no kind after ':'; kinds: ${FAULT_KINDS.join(', ')}`);
  kind ??= 'crash';
  if (!FAULT_KINDS.includes(kind as FaultKind)) throw bad(`unknown kind '${kind}'; kinds: ${FAULT_KINDS.join(', ')}`);
  if (!faultApplies(server as ServerName, kind as FaultKind)) throw bad(`only the disk can lose a write (disk:lose@TRIGGER), not ${server}`);
  if (tail === '') throw bad(`has no trigger after '@'; triggers: ${TRIGGER_FORMS}`);
  const eq = tail.indexOf('=');
  // a bare number is a message number (SERVER@N)
  const bare = eq < 0 && /^[-+\d]/.test(tail);
  const on = eq >= 0 ? tail.slice(0, eq) : bare ? 'message' : tail;
  if (!TRIGGER_KINDS.includes(on as TriggerKind)) throw bad(`unknown trigger '${on}'; triggers: ${TRIGGER_FORMS}`);
  const t = on as TriggerKind;
  const unit = TRIGGER_UNIT[t];
  if (eq < 0 && !bare) throw bad(`trigger '${t}' has no value; write ${t}=${unit}`);
  const value = eq >= 0 ? tail.slice(eq + 1) : tail;
  const n = wholeNumber(value);
  if (n === undefined || n < triggerMin(t)) throw bad(`${t}=${unit} needs an integer ${unit} >= ${triggerMin(t)}, got '${value}'`);
  return { server: server as ServerName, kind: kind as FaultKind, trigger: { on: t, at: n } };
}

/** The canonical text of a fault, `SERVER:KIND@on=at`: parseFaultSpec(formatFaultSpec(x)) equals x. */
export function formatFaultSpec(spec: FaultSpec): string {
  return `${spec.server}:${spec.kind}@${spec.trigger.on}=${spec.trigger.at}`;
}

/** A random fault plan: `count` faults drawn from `seed`. */
export interface RandomPlan {
  count: number;
  seed: number | string;
}

export const DEFAULT_RANDOM_SEED = 1;

/** Whether `text` is meant as a random plan (`random:...`) rather than one fault. */
export function isRandomPlanText(text: string): boolean {
  return text === 'random' || text.startsWith('random:');
}

/**
 * Parse `random:count=K[,seed=S]` (K an integer from 1 to 1000; S an integer
 * or a word of letters, digits, '_', '.' or '-', at most 64 characters;
 * default seed 1). Throws a FaultSpecError saying what is wrong.
 */
export function parseRandomPlan(text: string): RandomPlan {
  const bad = (problem: string) => new FaultSpecError(String(text), problem);
  if (typeof text !== 'string' || !isRandomPlanText(text)) throw bad(`is not a random plan; expected ${RANDOM_PLAN_FORM}`);
  const params = text === 'random' ? [] : text.slice('random:'.length).split(',');
  let count: number | undefined;
  let seed: number | string | undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? '' : p.slice(eq + 1);
    if (key !== 'count' && key !== 'seed') throw bad(`unknown parameter '${key}'; expected ${RANDOM_PLAN_FORM}`);
    if ((key === 'count' ? count : seed) !== undefined) throw bad(`gives ${key} twice; expected ${RANDOM_PLAN_FORM}`);
    if (value === '') throw bad(`${key} has no value; expected ${RANDOM_PLAN_FORM}`);
    const integer = /^-?\d{1,15}$/.test(value) ? Number(value) : undefined;
    if (key === 'count') {
      if (!inRange(RANGES.faultCount, integer)) throw bad(`count must be ${rangeText(RANGES.faultCount)}, got '${value}'`);
      count = integer;
    } else if (integer !== undefined) seed = integer;
    else if (/^[A-Za-z0-9_.-]{1,64}$/.test(value)) seed = value;
    else throw bad(`seed must be an integer or a word (letters, digits, '_', '.', '-'; at most 64), got '${value}'`);
  }
  if (count === undefined) throw bad(`gives no count; expected ${RANDOM_PLAN_FORM}`);
  return { count, seed: seed ?? DEFAULT_RANDOM_SEED };
}

/** The kinds a random plan draws from: every kind but `lose`, which only the disk can do. */
export const RANDOM_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((k) => k !== 'lose');

/** The most milliseconds a random plan's `ms=T` trigger waits. */
export const RANDOM_MAX_MS = 1000;

/**
 * `count` faults drawn from `seed` alone (the same seed, the same plan): each
 * picks its server uniformly from disk, net and app, its kind from crash, exit,
 * hang, oom and garbage, and a trigger: message=N with N in 1..max(1, 4 *
 * requests), request=N with N in 1..max(1, requests), or ms=T with T in
 * 0..1000. `requests` is the run's request count, so that most faults strike
 * while the run is on.
 */
export function randomFaultPlan(plan: { count: number; seed?: number | string; requests: number }): FaultSpec[] {
  const { count, requests } = plan;
  if (!inRange(RANGES.faultCount, count)) throw new RangeError(`count must be ${rangeText(RANGES.faultCount)}, got ${count}`);
  if (!Number.isSafeInteger(requests) || requests < 0) throw new RangeError(`requests must be an integer >= 0, got ${requests}`);
  const rng = seedrandom(`fault-plan:${String(plan.seed ?? DEFAULT_RANDOM_SEED)}`);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const highest: Record<TriggerKind, number> = { message: Math.max(1, 4 * requests), request: Math.max(1, requests), ms: RANDOM_MAX_MS };
  return Array.from({ length: count }, () => {
    const server = pick(SERVER_NAMES);
    const kind = pick(RANDOM_KINDS);
    const on = pick(TRIGGER_KINDS);
    return { server, kind, trigger: { on, at: between(triggerMin(on), highest[on]) } };
  });
}

/** One entry of a fault list as text: a fault, or a random plan. */
export function parseFaultText(text: string): FaultSpec | RandomPlan {
  return isRandomPlanText(text) ? parseRandomPlan(text) : parseFaultSpec(text);
}

/** Whether a parsed entry is a random plan. */
export function isRandomPlan(x: FaultSpec | RandomPlan): x is RandomPlan {
  return 'count' in x;
}

/**
 * A list of texts, each a fault or a random plan, as the faults they make, in
 * order (random plans drawn for a run of `requests` requests). Throws the first
 * entry's FaultSpecError.
 */
export function faultsFromText(list: string[], requests: number): FaultSpec[] {
  return expandFaults(list.map(parseFaultText), requests);
}

/** Parsed entries as faults: every random plan drawn for a run of `requests` requests. */
export function expandFaults(entries: ReadonlyArray<FaultSpec | RandomPlan>, requests: number): FaultSpec[] {
  return entries.flatMap((e) => (isRandomPlan(e) ? randomFaultPlan({ ...e, requests }) : [e]));
}
