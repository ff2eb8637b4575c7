/** What the labs share: seeds as the commands take them, small workloads built for one problem, checks over seeded runs, and a hand-in's module scope. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WorkloadSchema, type Workload } from '../workload/schema.js';
import type { CheckOutcome, GradeContext, LabCheck } from './types.js';

/** A seed as given on a command line or as a key of answers.json: digits are a number, anything else a word. */
export function normSeed(seed: number | string): number | string {
  return typeof seed === 'string' && /^-?\d{1,15}$/.test(seed) ? Number(seed) : seed;
}

/** A workload of one file of `size` bytes (one class, one directory), served over HTTP by `clients` closed-loop clients. */
export function oneFileWorkload(name: string, seed: number | string, size: number, requests: number, clients: number): Workload {
  return WorkloadSchema.parse({
    name,
    description: `A lab's problem: one file of ${size} bytes, ${requests} HTTP GETs from ${clients} closed-loop clients.`,
    seed,
    requests,
    clients,
    fileSet: { directories: 1, classes: [{ name: 'file', weight: 1, sizes: [size] }] },
  });
}

/** 12345 -> "12,345". */
export const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 6 });

/** 65536 -> "64 KiB", 100 -> "100 B". */
export function bytesText(b: number): string {
  if (b >= 1024 * 1024 && b % (1024 * 1024) === 0) return `${b / (1024 * 1024)} MiB`;
  if (b >= 1024 && b % 1024 === 0) return `${b / 1024} KiB`;
  return `${n(b)} B`;
}

/** A paragraph as lines of at most `width` characters. */
export function wrap(text: string, width = 78): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** An implementation lab's runs for every seed of a grading, or why they could not be made. */
export type SeededRuns<S> = { ok: true; seeds: S[] } | { ok: false; message: string };

/**
 * The checks of an implementation lab over runs made once per grading:
 * `runAll` makes every seed's runs, shared by all the checks of one grading
 * (the grader passes one context to every check). A check's `each` returns the
 * first problem of one seed, or null; `note` says what passed.
 */
export function seededChecks<S extends { seed: number | string }>(runAll: (ctx: GradeContext) => Promise<SeededRuns<S>>) {
  const memo = new WeakMap<GradeContext, Promise<SeededRuns<S>>>();
  const runsOf = (ctx: GradeContext): Promise<SeededRuns<S>> => {
    let p = memo.get(ctx);
    if (!p) memo.set(ctx, (p = runAll(ctx)));
    return p;
  };
  return (name: string, title: string, each: (s: S) => string | null, note?: (s: S[]) => string): LabCheck => ({
    name,
    title,
    async run(ctx: GradeContext): Promise<CheckOutcome> {
      const runs = await runsOf(ctx);
      if (!runs.ok) return { ok: false, message: runs.message };
      for (const s of runs.seeds) {
        const problem = each(s);
        if (problem !== null) return { ok: false, message: `seed ${s.seed}: ${problem}` };
      }
      return note ? { ok: true, note: note(runs.seeds) } : { ok: true };
    },
  });
}

/**
 * Why Node would not load the handed-in `file` (a `.ts` or `.js` file written
 * with import/export) as an ES module, or null if it would: the nearest
 * package.json above it, as Node looks it up, must say `"type": "module"`
 * (the starter's does). Without one the file is CommonJS to Node, and a
 * server thread loading it fails with an error that names neither the file's
 * scope nor the fix. Checked before anything loads the file; a missing file
 * is left to the loader to report.
 */
export function moduleScopeProblem(file: string, lab: string): string | null {
  if (!/\.(ts|js)$/.test(file) || !existsSync(file)) return null;
  if (!/^\s*(import|export)\b/m.test(readFileSync(file, 'utf8'))) return null;
  const dir = dirname(file);
  const fix = `add ${join(dir, 'package.json')} containing {"type": "module"} (microlith lab init ${lab} NEWDIR makes one with the starter)`;
  for (let d = dir; ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) {
      let type: unknown;
      try {
        type = (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type;
      } catch (e) {
        return `${pkg}, the package.json that governs ${file}, is not JSON (${e instanceof Error ? e.message : String(e)}): ${fix}`;
      }
      if (type === 'module') return null;
      return `${file} is an ES module, but ${pkg}, the package.json that governs it, does not say "type": "module" (${type === undefined ? 'it has no "type"' : `its "type" is ${JSON.stringify(type)}`}), so Node loads it as CommonJS: ${fix}`;
    }
    if (dirname(d) === d) break;
  }
  return `${file} is an ES module, but ${dir} has no package.json with "type": "module" (nor has any directory above it), so Node loads it as CommonJS: ${fix}`;
}
