/**
 * From a workload to what the kernels need: the file set that mkfs lays out, and
 * the request stream the simulated clients send, both from seeded generators so
 * that the same seed gives the same files and the same requests in every mode.
 */
import seedrandom from 'seedrandom';
import type { FileSpec } from '../servers/fs.js';
import type { Workload } from './schema.js';

/** Every file of the workload: /dirNN/<class>_<k> for each directory, class and size. */
export function fileSet(w: Workload): FileSpec[] {
  const files: FileSpec[] = [];
  for (let d = 0; d < w.fileSet.directories; d++) {
    for (const c of w.fileSet.classes) {
      c.sizes.forEach((size, k) => files.push({ path: filePath(d, c.name, k), size }));
    }
  }
  return files;
}

function filePath(dir: number, cls: string, k: number): string {
  return `/dir${String(dir).padStart(3, '0')}/${cls}_${k}`;
}

/** Index of the first cumulative weight greater than u (u in [0, total)). */
function pick(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function cumulative(weights: number[]): Float64Array {
  const cdf = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => (cdf[i] = sum += w));
  return cdf;
}

/**
 * The request stream: `next()` returns the request line of the next request.
 * A class is drawn by weight, then a file of that class by Zipf popularity over a
 * seeded ranking of the class's files.
 */
export class RequestStream {
  private readonly rng: seedrandom.PRNG;
  private readonly classCdf: Float64Array;
  private readonly classes: { paths: string[]; cdf: Float64Array }[];

  constructor(w: Workload) {
    this.rng = seedrandom(`${w.seed}:requests`);
    const rank = seedrandom(`${w.seed}:popularity`);
    this.classCdf = cumulative(w.fileSet.classes.map((c) => c.weight));
    this.classes = w.fileSet.classes.map((c) => {
      const paths: string[] = [];
      for (let d = 0; d < w.fileSet.directories; d++) c.sizes.forEach((_, k) => paths.push(filePath(d, c.name, k)));
      shuffle(paths, rank);
      const zipf = paths.map((_, r) => 1 / Math.pow(r + 1, w.popularity.exponent));
      return { paths, cdf: cumulative(zipf) };
    });
  }

  next(): string {
    const c = this.classes[pick(this.classCdf, this.rng() * this.classCdf[this.classCdf.length - 1])];
    const f = pick(c.cdf, this.rng() * c.cdf[c.cdf.length - 1]);
    return `GET ${c.paths[f]} HTTP/1.0`;
  }
}

/** Fisher–Yates with a seeded generator. */
function shuffle<T>(a: T[], rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}
