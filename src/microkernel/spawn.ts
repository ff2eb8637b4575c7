/**
 * Starting a worker thread from this folder: the compiled `<name>.js` as is, or,
 * when running from TypeScript sources (tests, tsx), `<name>.ts` through tsx's
 * loader (a worker cannot load .ts files by itself).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(name: 'worker' | 'echo-worker', options: WorkerOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), options);
  const entry = JSON.stringify(new URL(`./${name}.ts`, import.meta.url).href);
  const loader = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${entry}, ${entry}))`;
  return new Worker(loader, { ...options, eval: true });
}
