/**
 * The command line's answers to bad usage, in-process (cli/main.ts with captured
 * output): one line on stderr that names what is wrong and what to write instead,
 * exit code 2, nothing on stdout, and no work started.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';

interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...argv: string[]): Promise<Answer> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

/** Exit 2, stdout empty, exactly one line on stderr, matching `problem`, no stack trace. */
async function expectUsage(argv: string[], problem: RegExp): Promise<string> {
  const a = await cli(...argv);
  expect(a.code, a.stderr).toBe(2);
  expect(a.stdout).toBe('');
  expect(a.stderr).not.toMatch(/\n\s+at /);
  const lines = a.stderr.trimEnd().split('\n');
  expect(lines, a.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^microlith: /);
  expect(lines[0]).toMatch(problem);
  return lines[0];
}

describe('flags that cannot apply are usage errors that say what to write', () => {
  it('a transport for the monolith', async () => {
    await expectUsage(['run', '--mode', 'monolithic', '--transport', 'shared'], /--transport applies to the microkernel only: use --mode microkernel$/);
  });

  it('ring signalling and a spin without --mode (the monolith by default)', async () => {
    await expectUsage(['run', '--signal', 'ring', '--spin-us', '50'], /--signal applies to the microkernel only: use --mode microkernel/);
  });

  it('a spin without ring signalling', async () => {
    await expectUsage(['run', '--mode', 'microkernel', '--spin-us', '50'], /--spin-us applies to ring signalling only: use --signal ring/);
  });

  it('compare --transport and --mode point to --modes', async () => {
    await expectUsage(['compare', '--transport', 'shared'], /use --modes monolithic,microkernel:shared$/);
    await expectUsage(['compare', '--mode', 'microkernel'], /use --modes monolithic,microkernel$/);
    await expectUsage(['compare', '--signal', 'ring'], /use --modes monolithic,microkernel:copy:ring$/);
  });

  it('compare --spin-us with no ring label', async () => {
    await expectUsage(['compare', '--spin-us', '5'], /--spin-us applies to ring signalling only: use --modes microkernel:copy:ring/);
  });

  it('--max-in-flight without --rate, and --rate with --think-time-ms', async () => {
    await expectUsage(['run', '--max-in-flight', '8'], /--max-in-flight bounds an open loop: add --rate N/);
    await expectUsage(['run', '--rate', '100', '--think-time-ms', '5'], /give one of them/);
    await expectUsage(['run', '--rate', '100', '--clients', '5'], /--clients applies to a closed loop only .*--max-in-flight/);
  });

  it('calibrate: flags of --check without it, and of measuring with it', async () => {
    await expectUsage(['calibrate', '--max-error', '5'], /--max-error goes with --check/);
    await expectUsage(['calibrate', '--check', '--out', 'x.json'], /--out goes with measuring/);
  });
});

describe('every option is checked before any work, with one stated range', () => {
  it('--mtu below the 40 bytes of headers plus one, and above 65535: the same range', async () => {
    const low = await expectUsage(['run', '--mtu', '10'], /--mtu must be an integer from 41 to 65535, got 10$/);
    const high = await expectUsage(['run', '--mtu', '100000'], /--mtu must be an integer from 41 to 65535, got 100000$/);
    expect(low.replace('10', '')).toBe(high.replace('100000', ''));
  });

  it('calibrate --out into a missing directory is refused before measuring', async () => {
    const a = await cli('calibrate', '--out', '/nonexistent-microlith-dir/sub/host.json');
    expect(a.code).toBe(2);
    expect(a.stderr).not.toMatch(/measuring/);
    expect(a.stderr).toMatch(/--out .*host\.json: the directory .* does not exist/);
  });

  it('--seed "" is refused before "running..."', async () => {
    const line = await expectUsage(['run', '--seed', ''], /--seed must be an integer or a string of 1 to 64 characters, got ''/);
    expect(line).not.toMatch(/running/);
  });

  it('--requests abc is echoed as given, never as NaN', async () => {
    const line = await expectUsage(['run', '--requests', 'abc'], /--requests must be an integer from 1 to 10000000, got 'abc'/);
    expect(line).not.toMatch(/NaN/);
  });

  it('bench ipc checks its numbers too', async () => {
    await expectUsage(['bench', 'ipc', '--depth', '0'], /--depth must be an integer from 1 to 4096, got 0/);
    await expectUsage(['bench', 'ipc', '--sizes', '8,x'], /--sizes: 'x' is not a byte count/);
  });
});

describe('messages', () => {
  it('--mode foo names the choices on one line', async () => {
    await expectUsage(['run', '--mode', 'foo'], /--mode 'foo' is not one of monolithic, microkernel$/);
  });

  it('an unknown flag suggests the nearest one', async () => {
    await expectUsage(['run', '--mdoe', 'microkernel'], /unknown flag --mdoe: did you mean --mode\?/);
    await expectUsage(['compare', '--round', '2'], /did you mean --rounds\?/);
    await expectUsage(['run', '--zzzzzzzz'], /unknown flag --zzzzzzzz \(microlith run --help lists the flags\)/);
  });

  it('an unknown command suggests the nearest one and lists them all', async () => {
    await expectUsage(['rnu'], /unknown command 'rnu': did you mean run\? \(commands: run, compare, bench, calibrate, workloads, validate\)/);
  });

  it('a flag with no value', async () => {
    await expectUsage(['run', '--requests'], /--requests needs a value/);
  });

  it('bench and validate without their argument say what is missing', async () => {
    await expectUsage(['bench'], /^microlith: bench: say what to measure: microlith bench ipc$/);
    await expectUsage(['validate'], /^microlith: validate: name the workload file to check: microlith validate FILE$/);
  });

  it('a bare microlith lists every command, calibrate included, and exits 2', async () => {
    const a = await cli();
    expect(a.code).toBe(2);
    for (const c of ['run', 'compare', 'bench', 'calibrate', 'workloads', 'validate']) expect(a.stderr).toMatch(new RegExp(`microlith ${c}\\b`));
  });

  it('--help exits 0 with the commands on stdout', async () => {
    const a = await cli('--help');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/microlith calibrate/);
  });

  it('no error says "Run --help": one line is all', async () => {
    const a = await cli('run', '--fault', 'gpu@1');
    expect(a.stderr).not.toMatch(/Run 'microlith --help'/);
  });
});
