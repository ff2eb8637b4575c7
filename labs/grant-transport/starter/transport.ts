/**
 * The grant-transport lab: your transport. It loads and runs as it is — the
 * digests come out right — but it is neither cheap nor safe:
 *
 *   - safecopy copies every granted byte twice, through a bounce buffer, as a
 *     kernel copying in and out of its own buffer would (exercise 2);
 *   - safecopy checks nothing: a revoked, stale, forged or foreign grant, or
 *     bytes outside it, are copied all the same (exercise 3);
 *   - a grant is never reused and never ended properly (exercises 1 and 4).
 *
 * See README.md for the grant table's layout and the exercises. Only types
 * come from microlith (the import below is erased when the module loads), so
 * this file works from any directory.
 */
import type { GrantContext, TransportModule } from 'microlith';

let next = 0; // the next entry to use (TODO: reuse entries that are no longer live)

export const transport: TransportModule = {
  name: 'grants (starter)',

  grant(ctx: GrantContext, to, view) {
    const offset = ctx.offsetOf(view);
    if (offset < 0 || view.length === 0) return null; // not in our memory: let it cross inline
    const L = ctx.layout;
    if (next >= L.entries) return null; // TODO: the table "fills up" because nothing is reused
    const index = next++;
    const e = index * L.words;
    const table = ctx.table(ctx.self);
    table[e + L.GRANTEE] = ctx.servers.indexOf(to);
    table[e + L.OFFSET] = offset;
    table[e + L.LENGTH] = view.length;
    ctx.pin(offset, view.length);
    Atomics.store(table, e + L.STATE, L.LIVE);
    return ctx.id(index, table[e + L.GEN]); // TODO: a new generation for every use of an entry
  },

  revoke(ctx, id) {
    // TODO: end the grant (only if it is still live, and of this generation), and unpin what it pinned
    const e = ctx.index(id) * ctx.layout.words;
    Atomics.store(ctx.table(ctx.self), e + ctx.layout.STATE, ctx.layout.ENDED);
  },

  safecopy(ctx, from, id, offset, length, into) {
    // TODO: check the grant: live, of the generation the id names, made for ctx.self, the bytes inside it
    const L = ctx.layout;
    const table = ctx.table(from);
    const e = ctx.index(id) * L.words;
    const at = table[e + L.OFFSET] + offset;
    const bounce = ctx.memory(from).slice(at, at + length); // TODO: one copy, not two
    ctx.copied(length);
    into.set(bounce);
    ctx.copied(length);
  },

  release(ctx, from, id) {
    // TODO: end the grant (if it is live and made for us) and unpin the owner's memory
    const L = ctx.layout;
    const table = ctx.table(from);
    const e = ctx.index(id) * L.words;
    if (Atomics.compareExchange(table, e + L.STATE, L.LIVE, L.ENDED) === L.LIVE) ctx.unpin(from, table[e + L.OFFSET], table[e + L.LENGTH]);
  },
};
