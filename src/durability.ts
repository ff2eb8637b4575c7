/**
 * The end-of-run durability check: every write the clients saw acknowledged
 * must be on the disk image (the media, which the kernel owns and which
 * outlives every server), byte for byte.
 *
 * The clients keep a ledger of what became of each request (wire/registers.ts).
 * The harness makes the request stream again from the seed, so it knows every
 * WRITE's file, offset and bytes without the clients sending them back. The
 * disk applies data operations in request order (servers/app.ts), so the bytes
 * a write should have left are those no later write may have covered: the check
 * walks the writes from last to first, compares each acknowledged write's bytes
 * that no later write touched, and then marks its range as covered. A later
 * write that was never acknowledged (in flight when a server died, refused by a
 * dead peer) may or may not have reached the media, so its range is skipped, not
 * judged.
 */
import { BLOCK_SIZE, mount } from './servers/fs.js';
import { LEDGER } from './wire/registers.js';
import { RequestStream, writeData } from './workload/generate.js';
import type { Workload } from './workload/schema.js';

/** The end-of-run durability check's findings: acknowledged writes verified on the disk image, superseded by later ones, or lost. */
export interface Durability {
  /** WRITE requests whose acknowledgement (NFS3_OK ... FILE_SYNC) reached the client. */
  ackedWrites: number;
  /** Acknowledged writes whose bytes are on the image, where no later write covered them. */
  verified: number;
  /** Acknowledged writes every byte of which a later write covered: nothing of theirs is left to check. */
  superseded: number;
  /** Acknowledged writes with at least one byte not on the image. */
  lost: number;
  /** Bytes compared against the image. */
  bytesChecked: number;
  /** The first lost write, in words; null if none. */
  firstLoss: string | null;
}

interface Write {
  id: number;
  path: string;
  offset: number;
  length: number;
  code: number;
}

/** Check the writes of a run of `w` whose ledger is `ledger` against `image`, after the kernel stopped. */
export function checkDurability(w: Workload, image: SharedArrayBuffer, ledger: Uint8Array): Durability {
  // requests are issued in id order: the issued ones are a prefix of the ledger
  let issued = 0;
  while (issued < ledger.length && ledger[issued] !== LEDGER.notIssued) issued++;
  const stream = new RequestStream(w);
  const writes: Write[] = [];
  for (let id = 0; id < issued; id++) {
    const op = stream.nextOp();
    if (op.protocol === 'nfs' && op.op === 'WRITE') writes.push({ id, path: op.path, offset: op.offset, length: op.length, code: ledger[id] });
  }
  const files = new Map(mount(image).inodes.map((i) => [i.path, i]));
  const covered = new Map<string, Uint8Array>(); // per file: 1 where a later write may have written
  const media = new Uint8Array(image);
  const out: Durability = { ackedWrites: 0, verified: 0, superseded: 0, lost: 0, bytesChecked: 0, firstLoss: null };
  for (let k = writes.length - 1; k >= 0; k--) {
    const wr = writes[k];
    const ip = files.get(wr.path);
    if (ip === undefined || wr.offset + wr.length > ip.size) continue; // refused by the disk; the generator makes none
    let cover = covered.get(wr.path);
    if (cover === undefined) covered.set(wr.path, (cover = new Uint8Array(ip.size)));
    if (wr.code === LEDGER.done) {
      out.ackedWrites++;
      const expected = writeData(w.seed, wr.id, wr.length);
      const base = ip.startBlock * BLOCK_SIZE + wr.offset;
      let bad = -1;
      let checked = 0;
      for (let i = 0; i < wr.length; i++) {
        if (cover[wr.offset + i]) continue;
        checked++;
        if (media[base + i] !== expected[i]) {
          bad = i;
          break;
        }
      }
      out.bytesChecked += checked;
      if (bad >= 0) {
        out.lost++;
        // walking backwards, the last one found is the earliest
        out.firstLoss = `request ${wr.id}: WRITE ${wr.path} ${wr.offset} ${wr.length}, first wrong byte at file offset ${wr.offset + bad}`;
      } else if (checked > 0 || wr.length === 0) out.verified++;
      else out.superseded++;
    }
    if (wr.code !== LEDGER.refused) cover.fill(1, wr.offset, wr.offset + wr.length);
  }
  return out;
}
