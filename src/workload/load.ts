/**
 * Finding, reading and validating workload files. Every problem becomes one
 * WorkloadError line naming the file, the place and the field; never a stack.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkloadSchema, type Workload } from './schema.js';

/** The workloads shipped with microlith. */
export const WORKLOAD_DIR = fileURLToPath(new URL('../../workloads/', import.meta.url));
export const MAX_WORKLOAD_BYTES = 1024 * 1024;

export class WorkloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkloadError';
  }
}

/** Names of the shipped workloads. */
export function shippedWorkloads(): string[] {
  return readdirSync(WORKLOAD_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** A shipped workload by name, or a workload file by path (anything with a / or ending in .json). */
export function loadWorkload(nameOrPath: string): Workload {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  if (!isPath && !shippedWorkloads().includes(nameOrPath)) {
    throw new WorkloadError(
      `unknown workload '${nameOrPath}' (shipped: ${shippedWorkloads().join(', ')}; or give a path to a .json file)`,
    );
  }
  const file = isPath ? resolve(nameOrPath) : resolve(WORKLOAD_DIR, `${nameOrPath}.json`);
  const shown = isPath ? nameOrPath : `workloads/${basename(file)}`;
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_WORKLOAD_BYTES) throw new WorkloadError(`${shown}: file is ${size} bytes, over the ${MAX_WORKLOAD_BYTES}-byte limit`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof WorkloadError) throw e;
    throw new WorkloadError(`${shown}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseWorkload(text, shown);
}

/** Validate workload JSON text; `shown` names it in errors. */
export function parseWorkload(text: string, shown: string): Workload {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WorkloadError(`${shown}: not valid JSON: ${(e as Error).message}`);
  }
  const r = WorkloadSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw new WorkloadError(`${shown}: ${path || '(top level)'}: ${issue.message}`);
  }
  return r.data;
}
