/**
 * How throughput, tail latency and copying change with the number of clients:
 * a sweep of `clients` over 8, 32 and 128 on the SPECweb96 workload under the
 * microkernel (copy transport), written as a CSV.
 *
 *   npx tsx examples/sweep-clients.ts [out.csv] [requests]
 *
 * out.csv defaults to sweep.csv, requests (per cell) to 2000. Build first
 * (`npm run build`): `microlith` resolves, through package.json's `exports`,
 * to dist/, in this repository as in a project that installed it.
 */
import { writeFileSync } from 'node:fs';
import { sweep } from 'microlith';

const out = process.argv[2] ?? 'sweep.csv';
const requests = Number(process.argv[3] ?? 2000);

const result = await sweep({
  // one cell per value: clients=8, clients=32, clients=128
  params: { clients: [8, 32, 128] },
  // the same in every cell; a small request count keeps each cell short
  base: { workload: 'specweb96', mode: 'microkernel', transport: 'copy', requests },
  // the master seed: each cell's own seed is derived from it and the cell's id
  seed: 1996,
  // progress on stderr: the library itself never prints
  onCell: (p) => console.error(`cell ${p.i}/${p.n} ${p.id}: ${p.report.status}`),
  // to split the cells over a cluster and resume a killed sweep, add
  // shard: shardFromEnv() ?? undefined, dir: 'sweep-out' — and merge('sweep-out') after
});

// a CSV field, quoted when it needs to be (an id of several params has commas)
const field = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

// one row per cell, in the order of its id (numbers by value: 8, 32, 128)
const rows: (string | number)[][] = [['label', 'clients', 'requests_per_sec_host', 'p99_us_host', 'bytes_copied_per_request_counted']];
for (const cell of result.cells) {
  const r = cell.report;
  // throughput and latency are host-measured (_host); bytes copied are counted (_counted, deterministic)
  rows.push([cell.id, Number(cell.params.clients), r.throughput.requestsPerSec, r.latencyUs?.p99 ?? '', r.perRequest.bytesCopied]);
}
writeFileSync(out, rows.map((row) => row.map(field).join(',')).join('\n') + '\n');
console.error(`wrote ${out}: ${result.cells.length} cells`);
