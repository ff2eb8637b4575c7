/**
 * From a workload to what the kernels need: the file set that mkfs lays out, and
 * the request stream the simulated clients send, both from seeded generators so
 * that the same seed gives the same files and the same requests in every mode.
 */
import seedrandom from 'seedrandom';
import { fillSeeded, type FileSpec } from '../servers/fs.js';
import { hostName, missingName } from '../servers/dns-zone.js';
import type { Service, Workload } from './schema.js';

/** Every file of the workload: /dirNNN/<class>_<k> for each directory, class and size. */
export function fileSet(w: Workload): FileSpec[] {
  const files: FileSpec[] = [];
  if (w.fileSet === undefined) return files;
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

/** The largest file of the workload, bytes (0 without files). */
export function largestFile(w: Workload): number {
  return Math.max(0, ...(w.fileSet?.classes.flatMap((c) => c.sizes) ?? []));
}

/** The bytes WRITE request `id` of a run with seed `seed` carries (the harness makes them again to check them). */
export function writeData(seed: string | number, id: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  fillSeeded(bytes, `${seed}:write:${id}`);
  return bytes;
}

/** One request, before it becomes a request line. */
export type Op =
  | { protocol: 'http' | 'ftp'; path: string }
  | { protocol: 'nfs'; op: 'READ' | 'WRITE'; path: string; offset: number; length: number }
  | { protocol: 'dns'; name: string };

/** A request as the client sends it: its line, and the data a WRITE carries. */
export interface Request {
  line: string;
  body?: Uint8Array;
}

/** The request line of `op`. */
export function requestLine(op: Op): string {
  switch (op.protocol) {
    case 'http':
      return `GET ${op.path} HTTP/1.0`;
    case 'ftp':
      return `RETR ${op.path}`;
    case 'nfs':
      return `${op.op} ${op.path} ${op.offset} ${op.length}`;
    case 'dns':
      return `QUERY ${op.name} A`;
  }
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

function cumulative(weights: ArrayLike<number>): Float64Array {
  const cdf = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) cdf[i] = sum += weights[i];
  return cdf;
}

/** A draw from `cdf` with a uniform number from `rng`. */
function draw(cdf: Float64Array, rng: () => number): number {
  return pick(cdf, rng() * cdf[cdf.length - 1]);
}

function zipf(n: number, exponent: number): Float64Array {
  return cumulative(Float64Array.from({ length: n }, (_, r) => 1 / Math.pow(r + 1, exponent)));
}

/** A file class's files, most popular first (a seeded ranking), and its Zipf CDF. */
interface RankedClass {
  name: string;
  weight: number;
  paths: string[];
  sizes: number[];
  cdf: Float64Array;
}

type Picker = (rng: () => number) => Op;

/**
 * The request stream: `next()` returns the next request, in request-id order.
 * A service is drawn by weight (when there is more than one), then what it asks:
 * for a file service a class by weight and a file of that class by Zipf
 * popularity over a seeded ranking of the class's files; for nfs also READ or
 * WRITE, a transfer size and an offset that is a multiple of it; for dns a name
 * of the zone by Zipf popularity, or a missing name.
 */
export class RequestStream {
  private readonly rng: seedrandom.PRNG;
  private readonly serviceCdf: Float64Array;
  private readonly pickers: Picker[];
  private id = 0;

  constructor(private readonly w: Workload) {
    this.rng = seedrandom(`${w.seed}:requests`);
    const rank = seedrandom(`${w.seed}:popularity`);
    // every class is ranked, in file-set order, whichever services use it
    const ranked = new Map<string, RankedClass>();
    for (const c of w.fileSet?.classes ?? []) {
      const files: { path: string; size: number }[] = [];
      for (let d = 0; d < w.fileSet!.directories; d++) c.sizes.forEach((size, k) => files.push({ path: filePath(d, c.name, k), size }));
      shuffle(files, rank);
      ranked.set(c.name, {
        name: c.name,
        weight: c.weight,
        paths: files.map((f) => f.path),
        sizes: files.map((f) => f.size),
        cdf: zipf(files.length, w.popularity.exponent),
      });
    }
    this.serviceCdf = cumulative(w.services.map((s) => s.weight));
    this.pickers = w.services.map((s) => this.picker(s, ranked));
  }

  private picker(s: Service, ranked: Map<string, RankedClass>): Picker {
    if (s.protocol === 'dns') {
      const { origin, names, missRatio } = s.zone;
      const cdf = zipf(names, this.w.popularity.exponent);
      return (rng) => {
        if (missRatio > 0 && rng() < missRatio) return { protocol: 'dns', name: missingName(origin, Math.floor(rng() * names)) };
        return { protocol: 'dns', name: hostName(origin, draw(cdf, rng)) };
      };
    }
    const classes = (s.classes ?? [...ranked.keys()]).map((n) => ranked.get(n)!);
    const classCdf = cumulative(classes.map((c) => c.weight));
    const file = (rng: () => number) => {
      const c = classes[draw(classCdf, rng)];
      const f = draw(c.cdf, rng);
      return { path: c.paths[f], size: c.sizes[f] };
    };
    if (s.protocol !== 'nfs') {
      const protocol = s.protocol;
      return (rng) => ({ protocol, path: file(rng).path });
    }
    const { writeFraction, ioSizes } = s;
    return (rng) => {
      const { path, size } = file(rng);
      const op = rng() < writeFraction ? 'WRITE' : 'READ';
      const io = ioSizes[Math.floor(rng() * ioSizes.length)];
      const offset = Math.floor(rng() * Math.max(1, Math.ceil(size / io))) * io;
      return { protocol: 'nfs', op, path, offset, length: Math.max(0, Math.min(io, size - offset)) };
    };
  }

  /** The next request as an operation (its data, for a WRITE, is `writeData(seed, id, length)`). */
  nextOp(): Op {
    const s = this.pickers.length === 1 ? 0 : draw(this.serviceCdf, this.rng);
    this.id++;
    return this.pickers[s](this.rng);
  }

  /** The next request as the client sends it. */
  next(): Request {
    const id = this.id;
    const op = this.nextOp();
    const line = requestLine(op);
    return op.protocol === 'nfs' && op.op === 'WRITE' ? { line, body: writeData(this.w.seed, id, op.length) } : { line };
  }
}

/** Fisher–Yates with a seeded generator. */
function shuffle<T>(a: T[], rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}
