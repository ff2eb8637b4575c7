#!/usr/bin/env node
/**
 * The `microlith` program: the command line (cli/main.ts) on this process's
 * argv, stdout and stderr. Ctrl-C or SIGTERM once stops the work in progress,
 * which then prints what finished and exits 130; twice exits 130 at once.
 */
import { hideBin } from 'yargs/helpers';
import { EXIT, main } from './cli/main.js';

const stop = new AbortController();
const onSignal = () => {
  if (stop.signal.aborted) process.exit(EXIT.interrupted);
  stop.abort();
  process.stderr.write('microlith: stopping: the requests in flight finish, then what finished is printed (Ctrl-C again to quit at once)\n');
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// a reader that goes away (| head) ends the output, not the program with a stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const io = { out: (text: string) => void process.stdout.write(text), err: (text: string) => void process.stderr.write(text) };
main(hideBin(process.argv), io, stop).then((code) => (process.exitCode = code));
