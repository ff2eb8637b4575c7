/**
 * net — the network interface and protocol stack server.
 *
 * Requests come in from the wire (NET_RECV, sent by the wire device in this
 * server's own domain) and go to the app; responses come back from the app
 * (NET_SEND) and are cut into MTU-sized frames, each carrying the RFC 1071
 * checksum of its payload, computed in software unless the NIC offloads it. The
 * frames reference the payload's slices (scatter-gather): no copy here.
 *
 * The wire itself is a device (NetDevice) handed over at boot; this server never
 * touches sockets or threads.
 */
import type { Payload } from '../protocol.js';
import { InetChecksum } from './inet-checksum.js';
import { fail, ok, type CallTable, type ServerContext, type ServerModule } from './server.js';

const encoder = new TextEncoder();

/** IPv4 + TCP headers without options: what each frame carries besides payload. */
export const FRAME_HEADER_BYTES = 40;

export interface Frame {
  /** RFC 1071 checksum of the payload, or null when the NIC computes it. */
  checksum: number | null;
  /** Payload bytes of this frame, as slices of the response. */
  segments: Uint8Array[];
  length: number;
}

/** The wire: where frames go. Implemented outside src/servers (simulated clients, sockets). */
export interface NetDevice {
  transmit(reqId: number, status: number, frames: Frame[]): void;
}

export interface NetBoot {
  mtu: number;
  checksumOffload: boolean;
  device: NetDevice;
}

interface NetState {
  mss: number; // payload bytes per frame
  checksumOffload: boolean;
  device: NetDevice;
}

function init(boot: NetBoot): NetState {
  if (!Number.isInteger(boot.mtu) || boot.mtu <= FRAME_HEADER_BYTES || boot.mtu > 65535) {
    throw new RangeError(`net: mtu must be an integer in ${FRAME_HEADER_BYTES + 1}..65535, got ${boot.mtu}`);
  }
  return { mss: boot.mtu - FRAME_HEADER_BYTES, checksumOffload: boot.checksumOffload, device: boot.device };
}

async function doRecv(st: NetState, msg: { reqId: number; request: string; body?: Payload }, ctx: ServerContext) {
  const { reqId, request, body } = msg;
  if (typeof request !== 'string') return fail('EINVAL', 'NET_RECV request must be a string');
  if (body !== undefined && !isPayload(body)) return fail('EINVAL', 'NET_RECV body must be an array of Uint8Array');
  // the request came in as frames (the request line, then any data), and the
  // receiver computes each frame's checksum to check it, unless the NIC does
  const frames = cutFrames([encoder.encode(request), ...(body ?? [])], st.mss);
  const c = ctx.counters;
  const bytes = checksumFrames(frames, st.checksumOffload);
  c.add('framesReceived', frames.length);
  c.add('bytesReceived', bytes);
  if (!st.checksumOffload) c.add('rxBytesChecksummed', bytes);
  const r = await ctx.call('app', body?.length ? { type: 'APP_REQUEST', reqId, request, body } : { type: 'APP_REQUEST', reqId, request });
  return r.ok ? ok({ status: r.value.status }) : r;
}

function doSend(st: NetState, msg: { reqId: number; status: number; body: Payload }, ctx: ServerContext) {
  if (!isPayload(msg.body)) {
    return fail('EINVAL', 'NET_SEND body must be an array of Uint8Array');
  }
  const frames = cutFrames(msg.body, st.mss);
  const payload = checksumFrames(frames, st.checksumOffload);
  const wireBytes = payload + frames.length * FRAME_HEADER_BYTES;
  const c = ctx.counters;
  c.add('framesSent', frames.length);
  c.add('payloadBytes', payload);
  c.add('wireBytes', wireBytes);
  if (!st.checksumOffload) c.add('bytesChecksummed', payload);
  st.device.transmit(msg.reqId, msg.status, frames);
  return ok({ frames: frames.length, wireBytes });
}

/** Compute each frame's RFC 1071 checksum into it, unless the NIC does; the frames' payload bytes. */
function checksumFrames(frames: Frame[], offload: boolean): number {
  let bytes = 0;
  for (const f of frames) {
    bytes += f.length;
    if (offload) continue;
    const sum = new InetChecksum();
    for (const s of f.segments) sum.update(s);
    f.checksum = sum.digest();
  }
  return bytes;
}

function isPayload(v: unknown): v is Payload {
  return Array.isArray(v) && v.every((s) => s instanceof Uint8Array);
}

/** Cut `body` into frames of at most `mss` payload bytes (at least one frame). */
export function cutFrames(body: Payload, mss: number): Frame[] {
  const frames: Frame[] = [];
  let cur: Frame = { checksum: null, segments: [], length: 0 };
  for (const slice of body) {
    for (let at = 0; at < slice.length; ) {
      const n = Math.min(mss - cur.length, slice.length - at);
      cur.segments.push(at === 0 && n === slice.length ? slice : slice.subarray(at, at + n));
      cur.length += n;
      at += n;
      if (cur.length === mss) {
        frames.push(cur);
        cur = { checksum: null, segments: [], length: 0 };
      }
    }
  }
  if (cur.length > 0 || frames.length === 0) frames.push(cur);
  return frames;
}

const calls = {
  NET_RECV: doRecv,
  NET_SEND: doSend,
} satisfies CallTable<'net', NetState>;

export const net: ServerModule<'net', NetState, NetBoot> = { name: 'net', init, calls };
