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

describe('faults and the supervisor\'s limits', () => {
  it('a bad --fault names the flag, quotes the text once and says what is wrong', async () => {
    await expectUsage(['run', '--fault', 'disk:melt@message=3'], /^microlith: --fault 'disk:melt@message=3': unknown kind 'melt'; kinds: crash, exit, hang, oom, garbage, lose$/);
    await expectUsage(['run', '--fault', 'gpu@1'], /^microlith: --fault 'gpu@1': unknown server 'gpu'; servers: disk, net, app$/);
    await expectUsage(['run', '--fault', 'net:lose@ms=5'], /^microlith: --fault 'net:lose@ms=5': only the disk can lose a write \(disk:lose@TRIGGER\), not net$/);
    await expectUsage(['run', '--fault', 'disk:crash@message=0'], /^microlith: --fault 'disk:crash@message=0': message=N needs an integer N >= 1, got '0'$/);
    await expectUsage(['run', '--fault=app:hang@later'], /^microlith: --fault 'app:hang@later': unknown trigger 'later'; triggers: message=N, request=N, ms=T$/);
    await expectUsage(['compare', '--fault', 'disk'], /^microlith: --fault 'disk': has no '@TRIGGER'; expected SERVER:KIND@TRIGGER \(e\.g\. disk:crash@message=1000\)$/);
  });

  it('--fault repeated: each is checked, the first ones too', async () => {
    await expectUsage(['run', '--fault', 'gpu@1', '--fault', 'disk@1000'], /--fault 'gpu@1': unknown server 'gpu'/);
    await expectUsage(['run', '--fault', 'disk@1000', '--fault', 'app@0:hang'], /--fault 'app@0:hang': message=N needs/);
  });

  it('--fault and --faults point to each other', async () => {
    await expectUsage(['run', '--fault', 'random:count=3'], /^microlith: --fault 'random:count=3' is a random plan: use --faults random:count=3$/);
    await expectUsage(['run', '--faults', 'disk@1000'], /^microlith: --faults 'disk@1000' is one fault: use --fault disk@1000$/);
    await expectUsage(['run', '--faults', 'lots'], /^microlith: --faults 'lots': expected random:count=K\[,seed=S\]; one fault is --fault SERVER:KIND@TRIGGER/);
  });

  it('a bad random plan', async () => {
    await expectUsage(['run', '--faults', 'random:count=5000'], /^microlith: --faults 'random:count=5000': count must be an integer from 1 to 1000, got '5000'$/);
    await expectUsage(['compare', '--faults', 'random:count=2,seed=a/b'], /--faults 'random:count=2,seed=a\/b': seed must be an integer or a word/);
    await expectUsage(['run', '--faults'], /--faults needs a value/);
    await expectUsage(['run', '--fault'], /--fault needs a value/);
  });

  it('the restart limits for the monolith, and out of range', async () => {
    await expectUsage(['run', '--max-restarts', '5'], /^microlith: --max-restarts applies to the microkernel only: use --mode microkernel$/);
    await expectUsage(['run', '--mode', 'monolithic', '--restart-window-ms', '100'], /^microlith: --restart-window-ms applies to the microkernel only: use --mode microkernel$/);
    await expectUsage(['run', '--mode', 'microkernel', '--max-restarts', '1001'], /--max-restarts must be an integer from 0 to 1000, got 1001$/);
    await expectUsage(['run', '--mode', 'microkernel', '--restart-window-ms', 'soon'], /--restart-window-ms must be an integer from 1 to 3600000, got 'soon'$/);
    await expectUsage(['run', '--heap-limit-mb', '4'], /--heap-limit-mb must be an integer from 16 to 65536, got 4$/);
    await expectUsage(['compare', '--modes', 'monolithic', '--max-restarts', '2'], /^microlith: --max-restarts applies to the microkernel only: use --modes monolithic,microkernel:copy$/);
  });

  it('run --help and compare --help describe the fault flags', async () => {
    for (const command of ['run', 'compare']) {
      const a = await cli(command, '--help');
      expect(a.code).toBe(0);
      const help = a.stdout.replace(/\s+/g, ' ');
      for (const flag of ['--fault ', '--faults ', '--max-restarts', '--restart-window-ms', '--heap-limit-mb']) expect(help).toContain(flag);
      for (const word of ['crash', 'exit', 'hang', 'oom', 'garbage', 'lose', 'message=N', 'request=N', 'ms=T', 'random:count=K[,seed=S]', 'kernel panic', 'supervisor']) {
        expect(help).toContain(word);
      }
    }
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
    // a swap of two letters is one edit: compare has --modes, not --mode
    await expectUsage(['compare', '--mdoe', 'monolithic'], /unknown flag --mdoe: did you mean --modes\?/);
    await expectUsage(['run', '--zzzzzzzz'], /unknown flag --zzzzzzzz \(microlith run --help lists the flags\)/);
  });

  it('an unknown command suggests the nearest one and lists them all', async () => {
    await expectUsage(['rnu'], /unknown command 'rnu': did you mean run\? \(commands: run, serve, compare, bench, calibrate, faults, sweep, merge, workloads, validate, lab, grade\)/);
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
