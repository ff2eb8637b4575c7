/**
 * A fault-injection campaign as text: one table per mode, in the columns of
 * the fault-injection studies (server, fault, injected, activated, survived or
 * system crash, hangs, lost writes, request outcomes), a totals line, the
 * verdict of each mode, the microkernel's recovery times (host-measured) and
 * the replay command of every run that broke its mode's expectation. Fits in
 * 100 columns; numbers go through `format.ts`, tables through `grid`.
 */
import pc from 'picocolors';
import type { Mode } from '../config.js';
import { SERVER_NAMES } from '../protocol.js';
import type { CampaignReport, CampaignRow, CampaignTotals } from '../faults/campaign.js';
import { count, ms, sig3 } from './format.js';
import { grid, note, para, WIDTH, wrap, type Column, type Group } from './layout.js';

/** The kind labels are made per call: the CLI sets color after the modules load. */
const host = (): string => pc.cyan('host-measured');

const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

const KERNEL: Record<Mode, string> = { monolithic: 'monolithic kernel', microkernel: 'microkernel' };

/** The column that says what became of an activated fault: survived in the microkernel, a system crash in the monolith. */
const outcomeHead = (mode: Mode) => (mode === 'microkernel' ? 'survived' : 'system crash');
const outcomeOf = (mode: Mode, r: Pick<CampaignRow, 'survived' | 'systemCrashes'>) => (mode === 'microkernel' ? r.survived : r.systemCrashes);

function modeTable(report: CampaignReport, mode: Mode): string {
  const rows = report.rows.filter((r) => r.mode === mode);
  const total = report.totals[mode]!;
  const columns: Column[] = [
    { head: 'server' },
    { head: 'fault' },
    { head: 'injected', right: true },
    { head: 'activated', right: true },
    { head: outcomeHead(mode), right: true },
    { head: 'hangs', right: true },
    { head: 'lost writes', right: true },
    { head: 'ok', right: true },
    { head: 'fail', right: true },
    { head: 'info', right: true },
  ];
  const groups: Group[] = [
    { title: '', span: 7 },
    { title: 'requests', span: 3 },
  ];
  const cells = (r: Omit<CampaignRow, 'server' | 'kind'>) => [
    count(r.injected),
    count(r.activated),
    count(outcomeOf(mode, r)),
    count(r.hangs),
    count(r.lostWrites),
    count(r.requests.ok),
    count(r.requests.fail),
    count(r.requests.info),
  ];
  const table = rows.map((r, i) => [i > 0 && rows[i - 1].server === r.server ? '' : r.server, r.kind, ...cells(r)]);
  table.push([pc.bold('total'), '', ...cells(total).map((c) => pc.bold(c))]);
  return [pc.bold(KERNEL[mode]), grid({ columns, groups, rows: table, width: WIDTH })].join('\n');
}

/** `microkernel: 61 of 61 activated faults survived, 0 hangs, 0 lost writes — as expected`. */
export function verdictLine(mode: Mode, t: CampaignTotals): string {
  const what = mode === 'microkernel' ? 'survived' : 'crashed the system';
  const n = outcomeOf(mode, t);
  const tail = t.met ? 'as expected' : 'NOT as expected: the runs that broke it are below';
  return `${mode}: ${count(n)} of ${plural(t.activated, 'activated fault')} ${what}, ${plural(t.hangs, 'hang')}, ${plural(t.lostWrites, 'lost write')} — ${tail}`;
}

function recoveryTable(report: CampaignReport): string | null {
  const rec = report.recoveryMs;
  if (!rec) return null;
  const rows = SERVER_NAMES.map((s) => {
    const q = rec[s];
    return q ? [s, count(q.count), ms(q.p50), ms(q.p99), ms(q.max)] : [s, '0', '–', '–', '–'];
  });
  const columns: Column[] = [{ head: 'server' }, { head: 'runs restarted', right: true }, { head: 'p50 ms', right: true }, { head: 'p99 ms', right: true }, { head: 'max ms', right: true }];
  return [
    para(`microkernel recovery, ${host()} ms: from the failure (the fault striking) to the restarted server's first served call; a hang's includes the ${ms(report.config.settings.hangTimeoutMs)} ms it takes to notice`),
    grid({ columns, rows, width: WIDTH }),
  ].join('\n');
}

/** A shell command within `width` columns: broken at spaces with a backslash, so that it still pastes as one command. */
export function wrapCommand(command: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of command.split(' ')) {
    if (line.length > indent.length && line.length + 1 + word.length + 2 > width) {
      lines.push(`${line} \\`);
      line = `${indent}  ${word}`;
    } else line += (line.length > indent.length ? ' ' : '') + word;
  }
  lines.push(line);
  return lines.join('\n');
}

/** The campaign as text, within 100 columns. */
export function formatCampaign(report: CampaignReport): string {
  const c = report.config;
  const s = c.settings;
  const parts: string[] = [
    para(`fault campaign: ${plural(c.schedules, 'schedule')}, each one random fault (crash, exit, hang, oom or garbage in disk, net or app), the same fault under each mode`, pc.bold),
    para(`${c.workload}, ${count(c.requests)} requests per run, seed ${c.seed}; hang timeout ${ms(s.hangTimeoutMs)} ms, call timeout ${ms(s.callTimeoutMs)} ms, heap limit ${count(s.heapLimitMb)} MiB`),
  ];
  if (!report.complete) parts.push(para(`stopped: ${report.schedulesRun} of ${c.schedules} schedules finished; the figures below are of those`, pc.yellow));
  for (const mode of c.modes) parts.push('', modeTable(report, mode));
  parts.push(
    '',
    note(
      'injected: runs with that fault; activated: runs it struck in (a trigger past the end of a run never strikes); ' +
        `${c.modes.includes('microkernel') ? 'survived: activated, and the system carried on (no system crash, no server given up, every request settled, no acknowledged write lost); ' : ''}` +
        'hangs, lost writes (acknowledged writes not on the disk image) and requests: over every run.',
    ),
    '',
  );
  for (const mode of c.modes) {
    const t = report.totals[mode]!;
    parts.push(para(verdictLine(mode, t), t.met ? pc.green : pc.red));
  }
  const rec = recoveryTable(report);
  if (rec) parts.push('', rec);
  if (report.broken.length) {
    parts.push('', para(`${plural(report.broken.length, 'run')} broke the expectation; each replays alone with its command:`, pc.bold));
    for (const b of report.broken) {
      parts.push(wrap(`schedule ${b.schedule}, ${b.mode}, ${b.spec}: ${b.problem}`, WIDTH - 2).map((l) => `  ${l}`).join('\n'), wrapCommand(b.replay, WIDTH, '    '));
    }
  }
  parts.push('', `${plural(report.runs.length, 'run')} in ${sig3(report.elapsedMs / 1000)} s (${host()} wall time)`);
  return parts.join('\n');
}
