/**
 * A grade as text, in the style of MIT 6.1810's gradelib: one line per check,
 * a failure's message indented under it, the parts' scores, the total.
 *
 *   == Test IPC messages per request == ipc-messages: OK (0.8s)
 *   == Test bytes copied per request == bytes-copied: FAIL (0.3s)
 *       seed 7, bytesCopied: expected 16465 (within 1%), got 8272; hint: ...
 *   Part messages: 4/4
 *   Score: 4/6
 *
 * The times in parentheses (host time) are the only thing that differs
 * between two gradings of the same directory.
 */
import type { GradeResults } from './types.js';

/** One check's line (and its failure message, indented). */
export function formatCheck(c: GradeResults['checks'][number]): string {
  const head = `== Test ${c.title} == ${c.name}: ${c.ok ? 'OK' : 'FAIL'} (${c.seconds.toFixed(1)}s)`;
  if (c.ok || !c.message) return head;
  return [head, ...c.message.split('\n').map((l) => `    ${l}`)].join('\n');
}

/** The parts' scores and the total. */
export function formatScore(r: GradeResults): string {
  return [...r.parts.map((p) => `Part ${p.name}: ${p.score}/${p.max}`), `Score: ${r.score}/${r.max}`].join('\n');
}

/** The whole grade: every check, then the parts, then the score. */
export function formatGrade(r: GradeResults): string {
  return [...r.checks.map(formatCheck), formatScore(r)].join('\n');
}
