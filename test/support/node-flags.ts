/**
 * The V8 flags of every Node process the tests run: the test forks (vitest.config.ts)
 * and the node children test/support/cli.ts starts. They change when code gets fast,
 * never what it does; the CLI and the benchmarks run with V8's defaults.
 *
 * --no-concurrent-recompilation: each thread optimizes its own code, so no optimizing
 *   job outlives a thread that ends. Node 20 can abort a process when a worker thread
 *   ends while V8 is still optimizing its code on a helper thread (the assertion
 *   (data.first) != nullptr in NodePlatform::ForIsolate, see the README): about one
 *   whole run in ten, among some 1,600 thread ends.
 * --interrupt-budget: twelve times V8's default (67,584 bytes of bytecode run between
 *   checks for hot functions), so a function is optimized only after running twelve times
 *   as long. Most of the suite's runs are short, in threads that end within a second,
 *   and a CPU profile of a whole `npm test` (perf) put 17% of its CPU in V8's optimizing
 *   compiler, 13% in threads that soon ended; alternated whole suites used 4–12% less CPU
 *   with this (the README says how they were measured). Long loops still get optimized.
 */
export const TEST_NODE_FLAGS: readonly string[] = ['--no-concurrent-recompilation', '--interrupt-budget=811008'];
