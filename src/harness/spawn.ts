/**
 * Starting a thread for a domain: the compiled `<module>.js` as is, or, when
 * running from TypeScript sources (tests, tsx), `<module>.ts` through tsx's
 * loader (a worker cannot load .ts files by itself). Modules are named from src/.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export type DomainModule = 'microkernel/worker' | 'microkernel/echo-worker' | 'harness/monolithic-host';

export function startWorker(module: DomainModule, options: WorkerOptions): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`../${module}.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSource) return new Worker(url, options);
  const entry = JSON.stringify(url.href);
  // tsx resolved here, so a worker started from any working directory finds it
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const loader = `import(${tsx}).then((tsx) => tsx.tsImport(${entry}, ${entry}))`;
  return new Worker(loader, { ...options, eval: true });
}
