/**
 * A server module of your own, placed for the disk server: the shipped disk,
 * except that one directory is private (a lookup under /dir009/ answers
 * ENOENT, so the app serves 404 for its files). Server code is kernel-neutral,
 * so it runs unchanged under both kernels:
 *
 *   npx microlith run --server-module disk=examples/private-dir-disk.ts
 *   npx microlith run --mode microkernel --server-module disk=examples/private-dir-disk.ts
 *
 * The file's export `server` is checked when it is loaded: its `name` must be
 * the server it replaces, `init` a function and `calls` a table of handlers.
 * Build first (`npm run build`): `microlith` resolves to dist/.
 */
import { diskServer, fail } from 'microlith';

/** Paths under this prefix are not found. */
const PRIVATE = '/dir009/';

export const server: typeof diskServer = {
  ...diskServer,
  calls: {
    ...diskServer.calls,
    DISK_LOOKUP: (state, msg, ctx) => (msg.path.startsWith(PRIVATE) ? fail('ENOENT', `${msg.path} is private`) : diskServer.calls.DISK_LOOKUP(state, msg, ctx)),
  },
};
