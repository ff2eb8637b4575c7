/**
 * The labs: the registry the `lab` and `grade` commands read, where each lab's
 * files are, its points file, the seeds a student gets, and the grader.
 *
 * To add a lab: write its `Lab` in `src/labs/<name>.ts`, its files in
 * `labs/<name>/` (README.md, points.json, starter/), and add one import and
 * one entry to `LABS` below.
 *
 * A grade rests on counted events and modelled time only: the seconds each
 * check took are host time, for display, and the only thing that differs
 * between two gradings of the same directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir } from '../paths.js';
import { z } from 'zod';
import type { GradeResults, Lab, PointsFile } from './types.js';
import { copiesLab } from './copies.js';
import { inTheNoiseLab } from './in-the-noise.js';
import { grantTransportLab } from './grant-transport.js';
import { reincarnationLab } from './reincarnation.js';

export type { CheckOutcome, Difficulty, GradeContext, GradeResults, Lab, LabCheck, LabProblem, PointsFile } from './types.js';

/** Every lab, in the order `lab list` shows them. Add a lab with one import and one entry here. */
export const LABS: Lab[] = [
  copiesLab,
  inTheNoiseLab,
  reincarnationLab,
  grantTransportLab,
];

/** The version of the JSON shape of `GradeResults` (`schemaVersion`). */
export const GRADE_SCHEMA_VERSION = 1;

/** A lab that does not exist, a bad points file, a missing directory: one line, the user's to fix. */
export class LabError extends Error {
  override name = 'LabError';
}

/** The labs' files shipped with microlith: `labs/` at the package root (from src/labs or dist/labs alike). */
export const LABS_DIR = packageDir('labs');

/** The lab named `name`; an error listing the labs if there is none. */
export function findLab(name: string): Lab {
  const lab = LABS.find((l) => l.name === name);
  if (!lab) throw new LabError(`no lab named '${name}' (labs: ${LABS.map((l) => l.name).join(', ')})`);
  return lab;
}

/** The directory of lab `name`: `labs/<name>/` in the package. */
export function labDir(name: string): string {
  return join(LABS_DIR, name);
}

const PointsSchema = z.strictObject({
  lab: z.string().min(1),
  parts: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        checks: z.array(z.strictObject({ name: z.string().min(1), points: z.number().int().min(0).max(1000) })).min(1),
      }),
    )
    .min(1),
});

const labOf = (lab: Lab | string): Lab => (typeof lab === 'string' ? findLab(lab) : lab);

/**
 * `labs/<name>/points.json` (or `file`), checked: valid, naming this lab, and
 * naming every check of the lab exactly once and no other.
 */
export function loadPoints(lab: Lab | string, file?: string): PointsFile {
  const l = labOf(lab);
  const path = file ?? join(labDir(l.name), 'points.json');
  const shown = file ?? `labs/${l.name}/points.json`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e);
    throw new LabError(`${shown}: ${why}`);
  }
  const parsed = PointsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LabError(`${shown}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const points = parsed.data;
  if (points.lab !== l.name) throw new LabError(`${shown}: "lab" is '${points.lab}', expected '${l.name}'`);
  const listed = points.parts.flatMap((p) => p.checks.map((c) => c.name));
  const twice = listed.filter((n, i) => listed.indexOf(n) !== i);
  const names = l.checks.map((c) => c.name);
  const missing = names.filter((n) => !listed.includes(n));
  const unknown = listed.filter((n) => !names.includes(n));
  const problems = [
    ...(missing.length ? [`no points for check${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`] : []),
    ...(unknown.length ? [`points for check${unknown.length > 1 ? 's' : ''} the lab does not have: ${[...new Set(unknown)].join(', ')}`] : []),
    ...(twice.length ? [`check${twice.length > 1 ? 's' : ''} listed twice: ${[...new Set(twice)].join(', ')}`] : []),
  ];
  if (problems.length) throw new LabError(`${shown} does not match lab '${l.name}' (checks: ${names.join(', ')}): ${problems.join('; ')}`);
  return points;
}

/**
 * The 3 seeds of student `studentId` in lab `lab`: from sha256 of
 * `${lab}:${studentId}`, each a number below 1,000,000. The same every time;
 * another student (or lab) gets others.
 */
export function studentSeeds(lab: Lab | string, studentId: string): number[] {
  const name = typeof lab === 'string' ? lab : lab.name;
  const seeds: number[] = [];
  for (let round = 0; seeds.length < 3; round++) {
    const h = createHash('sha256').update(round === 0 ? `${name}:${studentId}` : `${name}:${studentId}:${round}`).digest();
    for (let i = 0; i + 4 <= h.length && seeds.length < 3; i += 4) {
      const s = h.readUInt32BE(i) % 1_000_000;
      if (!seeds.includes(s)) seeds.push(s);
    }
  }
  return seeds;
}

/** What `grade()` takes: the student's directory, and optionally their id, extra seeds, a filter, and a callback per finished check. */
export interface GradeOptions {
  dir: string;
  student?: string;
  /** Seeds added to the student's (or the lab's default) seeds, e.g. hidden ones at grading time. */
  seeds?: (number | string)[];
  /** Run only the checks whose name or title matches: a regular expression, or a plain substring if it is not one. */
  filter?: string;
  /** Called as each check finishes, with its line of the results. */
  onCheck?: (check: GradeResults['checks'][number]) => void;
}

/** Whether `filter` selects a check named `name` titled `title` (a regex, case-sensitive as in gradelib; a substring if it does not compile). */
function selects(filter: string | undefined, name: string, title: string): boolean {
  if (filter === undefined || filter === '') return true;
  let re: RegExp | null = null;
  try {
    re = new RegExp(filter);
  } catch {
    re = null;
  }
  return re ? re.test(name) || re.test(title) : name.includes(filter) || title.includes(filter);
}

/** The checks of `lab` that `filter` selects (all without one). */
export function selectedChecks(lab: Lab | string, filter?: string): Lab['checks'] {
  return labOf(lab).checks.filter((c) => selects(filter, c.name, c.title));
}

/**
 * Grade the student's directory against lab `lab`: every check (matching
 * `filter`) run in turn, its points from points.json, the parts' and the total
 * scores. Never prints (`onCheck` gets each result as it comes).
 */
export async function grade(lab: Lab | string, opts: GradeOptions): Promise<GradeResults> {
  const l = labOf(lab);
  const points = loadPoints(l);
  if (!existsSync(opts.dir) || !statSync(opts.dir).isDirectory()) throw new LabError(`no directory ${opts.dir} to grade`);
  const base = opts.student !== undefined ? studentSeeds(l, opts.student) : l.defaultSeeds;
  const seeds: (number | string)[] = [];
  for (const s of [...base, ...(opts.seeds ?? [])]) if (!seeds.some((x) => String(x) === String(s))) seeds.push(s);
  const partOf = new Map<string, { part: string; points: number }>();
  for (const p of points.parts) for (const c of p.checks) partOf.set(c.name, { part: p.name, points: c.points });
  const checks: GradeResults['checks'] = [];
  const ctx = { dir: opts.dir, seeds, ...(opts.student !== undefined ? { student: opts.student } : {}) };
  for (const check of l.checks) {
    if (!selects(opts.filter, check.name, check.title)) continue;
    const { part, points: worth } = partOf.get(check.name)!;
    const t0 = performance.now();
    let outcome;
    try {
      outcome = await check.run(ctx);
    } catch (e) {
      outcome = { ok: false as const, message: `the check could not run: ${e instanceof Error ? e.message : String(e)}` };
    }
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    const line = { name: check.name, part, title: check.title, points: worth, earned: outcome.ok ? worth : 0, ok: outcome.ok, message: outcome.ok ? null : outcome.message, seconds };
    checks.push(line);
    opts.onCheck?.(line);
  }
  const parts = points.parts
    .map((p) => {
      const mine = checks.filter((c) => c.part === p.name);
      return { name: p.name, score: mine.reduce((a, c) => a + c.earned, 0), max: mine.reduce((a, c) => a + c.points, 0), ran: mine.length };
    })
    .filter((p) => p.ran > 0)
    .map(({ name, score, max }) => ({ name, score, max }));
  return {
    schemaVersion: GRADE_SCHEMA_VERSION,
    kind: 'microlith-grade',
    lab: l.name,
    student: opts.student ?? null,
    seeds,
    score: parts.reduce((a, p) => a + p.score, 0),
    max: parts.reduce((a, p) => a + p.max, 0),
    parts,
    checks,
  };
}
