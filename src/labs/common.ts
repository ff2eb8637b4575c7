/** What the problem labs share: seeds as the commands take them, and small workloads built for one problem. */
import { WorkloadSchema, type Workload } from '../workload/schema.js';

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
