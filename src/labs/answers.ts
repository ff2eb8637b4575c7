/**
 * The checks of a problem/answer lab: the student's `answers.json`, keyed by
 * seed, compared with the answers the simulator computed for each seed.
 *
 *   { "<seed>": { "<key>": number, ... }, ... }
 *
 * A key's tolerance is relative (0: exact, but for the float noise of a
 * printed decimal). A check covers some of the keys; it fails on the first
 * seeds and keys that are wrong, naming each, its expected and its given value,
 * and a hint.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normSeed } from './common.js';
import type { CheckOutcome, GradeContext, LabCheck, LabProblem } from './types.js';

/** The file a problem lab's answers are in, in the student's directory. */
export const ANSWERS_FILE = 'answers.json';

type Answers = Record<string, Record<string, unknown>>;

/** The student's answers, or why they cannot be read. */
export function readAnswers(dir: string): { ok: true; answers: Answers } | { ok: false; message: string } {
  const file = join(dir, ANSWERS_FILE);
  if (!existsSync(file)) return { ok: false, message: `no ${ANSWERS_FILE} in ${dir}: write { "<seed>": { "<key>": <number>, ... } } for each seed` };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return { ok: false, message: `${ANSWERS_FILE} is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, message: `${ANSWERS_FILE} must hold an object keyed by seed, e.g. { "7": { ... } }` };
  return { ok: true, answers: raw as Answers };
}

/** Whether `given` is within relative `tol` of `expected` (an exact answer may differ by float noise only). */
export function within(given: number, expected: number, tol: number): boolean {
  const slack = Math.max(tol * Math.abs(expected), 1e-9 * Math.max(1, Math.abs(expected)));
  return Math.abs(given - expected) <= slack;
}

const tolText = (tol: number) => (tol === 0 ? 'exactly' : `within ${+(tol * 100).toFixed(4)}%`);

/** A number for a message: as JSON would print it. */
const num = (x: unknown) => (typeof x === 'number' ? String(x) : JSON.stringify(x));

/** One check over the keys `keys` selects, for every seed being graded. */
export interface AnswerCheckSpec {
  name: string;
  title: string;
  /** Which keys of a problem's expected answers this check covers. */
  keys: (key: string) => boolean;
  /** A hint for a wrong answer to `key` of the problem for `seed`. */
  hint: (seed: number | string, key: string) => Promise<string> | string;
}

/** At most this many wrong answers are listed in a failure message. */
const MAX_LISTED = 4;

/** The checks of a problem lab, comparing answers.json with `problem(seed).expected`. */
export function answerChecks(problem: (seed: number | string) => Promise<LabProblem>, specs: AnswerCheckSpec[]): LabCheck[] {
  return specs.map((spec) => ({
    name: spec.name,
    title: spec.title,
    async run(ctx: GradeContext): Promise<CheckOutcome> {
      const read = readAnswers(ctx.dir);
      if (!read.ok) return read;
      const wrong: string[] = [];
      for (const seed of ctx.seeds) {
        const p = await problem(seed);
        const mine = read.answers[String(seed)];
        for (const key of Object.keys(p.expected).filter(spec.keys)) {
          const expected = p.expected[key];
          const tol = p.tolerance?.[key] ?? 0;
          const given = typeof mine === 'object' && mine !== null ? mine[key] : undefined;
          if (typeof given === 'number' && Number.isFinite(given) && within(given, expected, tol)) continue;
          const what =
            mine === undefined || mine === null
              ? `no answers for seed ${seed} in ${ANSWERS_FILE} (expected ${key} ${expected})`
              : given === undefined || given === null
                ? `no answer (expected ${expected})`
                : typeof given !== 'number'
                  ? `expected the number ${expected}, got ${num(given)}`
                  : `expected ${expected} (${tolText(tol)}), got ${num(given)}`;
          wrong.push(`seed ${seed}, ${key}: ${what}; hint: ${await spec.hint(seed, key)}`);
        }
      }
      if (wrong.length === 0) return { ok: true };
      const more = wrong.length > MAX_LISTED ? [`... and ${wrong.length - MAX_LISTED} more wrong`] : [];
      return { ok: false, message: [...wrong.slice(0, MAX_LISTED), ...more].join('\n') };
    },
  }));
}

/** A deterministic stream of numbers in [0, 1) from a seed and a salt (sha256 counter mode), for drawing a problem. */
export function drawer(salt: string, seed: number | string): () => number {
  let counter = 0;
  let buf: Buffer = Buffer.alloc(0);
  let at = 0;
  return () => {
    if (at + 4 > buf.length) {
      buf = hash(`${salt}:${String(seed)}:${counter++}`);
      at = 0;
    }
    const x = buf.readUInt32BE(at) / 2 ** 32;
    at += 4;
    return x;
  };
}

function hash(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** One of `xs`, drawn with `next`. */
export function pick<T>(next: () => number, xs: readonly T[]): T {
  return xs[Math.floor(next() * xs.length)];
}

/** Memoize a problem function by seed (a grade asks for each seed's problem once per check). */
export function bySeed<T>(f: (seed: number | string) => Promise<T>): (seed: number | string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (seed) => {
    const s = normSeed(seed);
    const key = `${typeof s}:${String(s)}`;
    let p = cache.get(key);
    if (!p) {
      p = f(s);
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  };
}
