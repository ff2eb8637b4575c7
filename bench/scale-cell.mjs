/**
 * One cell of `npm run bench -- --only scale`, in a process of its own so that
 * its peak resident set is its own: `process.resourceUsage().maxRSS` is the
 * process's lifetime peak, and the kernel's domains are threads of this
 * process, so it covers them. Plain JavaScript on the compiled build (dist/),
 * run by node itself: a TypeScript loader would add its own memory to the peak.
 *
 *   node bench/scale-cell.mjs '<run options as JSON>'
 *
 * Prints one JSON line: { report (the RunReport), rssBeforeMb, maxRssMb }.
 * rssBeforeMb: the resident set once the library is loaded, before the run.
 */
const { run } = await import(new URL('../dist/index.js', import.meta.url).href);

const options = JSON.parse(process.argv[2] ?? '{}');
const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
const report = await run(options);
// maxRSS is in KiB
const maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ report, rssBeforeMb, maxRssMb })}\n`);
