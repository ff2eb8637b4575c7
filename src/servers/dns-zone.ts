/**
 * The app server's DNS zone: an in-memory table of names and their A records,
 * built at boot from the workload's zone description and seed (as a name server
 * loads its zone file at start), so every kernel builds the same zone.
 *
 * Names are host0.<origin> ... host<N-1>.<origin>; each has 1 to 4 A records in
 * 10.0.0.0/8 with a TTL of 300 s. The answer records are kept rendered, and a
 * reply is composed from them into a packet of its own, as a name server writes
 * its answer into the reply packet.
 */
import seedrandom from 'seedrandom';

export interface ZoneSpec {
  /** Fully qualified, ending with a dot: "example.com." */
  origin: string;
  /** How many names the zone holds. */
  names: number;
}

export const TTL_SECONDS = 300;

/** The kth name of the zone. */
export function hostName(origin: string, k: number): string {
  return `host${k}.${origin}`;
}

/** A name under the origin that the zone does not hold (queried for NXDOMAIN answers). */
export function missingName(origin: string, k: number): string {
  return `nx${k}.${origin}`;
}

export class Zone {
  /** name -> its answer records, rendered, and how many there are. */
  private readonly table = new Map<string, { answer: string; records: number }>();

  constructor(spec: ZoneSpec, seed: string | number) {
    const rng = seedrandom.alea(`${seed}:zone`);
    for (let k = 0; k < spec.names; k++) {
      const name = hostName(spec.origin, k);
      const records = 1 + ((rng.int32() >>> 0) % 4);
      let answer = '';
      for (let r = 0; r < records; r++) {
        const a = rng.int32() >>> 0;
        answer += `${name}\t${TTL_SECONDS}\tIN\tA\t10.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}\r\n`;
      }
      this.table.set(name, { answer, records });
    }
  }

  get size(): number {
    return this.table.size;
  }

  /** The answer records for `name`, or null if the zone has no such name. */
  lookup(name: string): { answer: string; records: number } | null {
    return this.table.get(name) ?? null;
  }
}
