/**
 * Laying text out for a terminal within a width budget: `grid` (a borderless
 * table with a rule under its header and optional titles over groups of
 * columns), `para` and `note` (wrapped paragraphs). Widths are visible
 * widths: colour codes do not count.
 */
import { stripVTControlCharacters } from 'node:util';
import pc from 'picocolors';

/** The default budget of every formatter's output, in columns. */
export const WIDTH = 100;
/** Blank columns between two table columns. */
const GAP = 2;
/** A column is not narrowed below this to make a table fit. */
const MIN_COLUMN = 6;

/** Visible width of the widest line of `s` (colour codes stripped). */
export function visibleWidth(s: string): number {
  return Math.max(0, ...stripVTControlCharacters(s).split('\n').map((l) => [...l].length));
}

/** Plain text broken into lines of at most `width` columns at spaces; a longer word is cut after a separator (: / - ,) or at the width. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (let word of para.split(/ +/)) {
      while ([...word].length > width) {
        if (line) out.push(line);
        line = '';
        const head = [...word].slice(0, width);
        // after the last separator that fits ('microkernel:' + 'shared:ring'), else at the width
        const at = Math.max(...[':', '/', '-', ','].map((c) => head.lastIndexOf(c))) + 1 || width;
        out.push(head.slice(0, at).join(''));
        word = [...word].slice(at).join('');
      }
      if (!line) line = word;
      else if ([...line].length + 1 + [...word].length <= width) line += ` ${word}`;
      else {
        out.push(line);
        line = word;
      }
    }
    out.push(line);
  }
  return out;
}

/** A paragraph wrapped to WIDTH, each line styled on its own (so that each line resets its colour). */
export function para(text: string, style: (s: string) => string = (s) => s): string {
  return wrap(text, WIDTH).map(style).join('\n');
}

/** A footnote: a dimmed paragraph. */
export function note(text: string): string {
  return para(text, pc.dim);
}

export interface Column {
  head: string;
  /** Right-aligned (numbers). */
  right?: boolean;
}

export interface Group {
  /** Shown over `span` columns; '' for none. */
  title: string;
  span: number;
}

export interface GridSpec {
  columns: Column[];
  /** Titles over consecutive columns, covering all of them in order. */
  groups?: Group[];
  rows: string[][];
  /** Budget in columns (default WIDTH; Infinity for none): the widest columns wrap to fit. */
  width?: number;
}

/** Column widths: as wide as their widest cell, group titles fitted, the widest narrowed until the table fits. */
function columnWidths(spec: GridSpec): number[] {
  const w = spec.columns.map((c, i) => Math.max(visibleWidth(c.head), ...spec.rows.map((r) => visibleWidth(r[i] ?? ''))));
  let at = 0;
  for (const g of spec.groups ?? []) {
    const have = w.slice(at, at + g.span).reduce((a, b) => a + b, 0) + GAP * (g.span - 1);
    w[at + g.span - 1] += Math.max(0, visibleWidth(g.title) - have);
    at += g.span;
  }
  const budget = spec.width ?? WIDTH;
  const total = () => w.reduce((a, b) => a + b, 0) + GAP * (w.length - 1);
  while (total() > budget) {
    const i = w.indexOf(Math.max(...w));
    if (w[i] <= MIN_COLUMN) break;
    w[i]--;
  }
  return w;
}

/** `cell` within `width` columns: as it is if it fits, else wrapped (losing its colour). */
function fitCell(cell: string, width: number): string {
  return visibleWidth(cell) <= width ? cell : wrap(stripVTControlCharacters(cell), width).join('\n');
}

/** `s` padded with blanks to `width` visible columns, on the left when `right`. */
function pad(s: string, width: number, right: boolean): string {
  const blanks = ' '.repeat(Math.max(0, width - visibleWidth(s)));
  return right ? blanks + s : s + blanks;
}

/** The lines of one row of cells (each already within its width), side by side. */
function rowLines(cells: string[], widths: number[], right: boolean[]): string[] {
  const split = cells.map((c) => c.split('\n'));
  const height = Math.max(...split.map((l) => l.length));
  return Array.from({ length: height }, (_, k) => split.map((ls, i) => pad(ls[k] ?? '', widths[i], right[i])).join(' '.repeat(GAP)));
}

/** Each line of `s` styled on its own, so that no style runs on into the next column. */
const styleLines = (s: string, style: (x: string) => string) => s.split('\n').map(style).join('\n');

/**
 * A table: optional group titles, bold column heads, a rule, then the rows; no
 * line wider than the budget when it can be helped. Laid out here rather than
 * by cli-table3: the widths and wrapping are decided above, and cli-table3
 * measures every line of every cell again (about a second for a profile's sources).
 */
export function grid(spec: GridSpec): string {
  const w = columnWidths(spec);
  const right = spec.columns.map((c) => c.right ?? false);
  const lines: string[] = [];
  if (spec.groups) {
    let at = 0;
    const room = spec.groups.map((g) => w.slice(at, (at += g.span)).reduce((a, b) => a + b, 0) + GAP * (g.span - 1));
    lines.push(...rowLines(spec.groups.map((g, i) => fitCell(g.title, room[i])), room, room.map(() => false)));
  }
  lines.push(...rowLines(spec.columns.map((c, i) => styleLines(fitCell(c.head, w[i]), pc.bold)), w, right));
  lines.push(w.map((x) => pc.dim('─'.repeat(x))).join(' '.repeat(GAP)));
  for (const r of spec.rows) lines.push(...rowLines(r.map((cell, i) => fitCell(cell ?? '', w[i])), w, right));
  return lines.map(trimEnd).join('\n');
}

/** A line without trailing blanks, also those before its closing colour codes. */
function trimEnd(line: string): string {
  const tail = /(?:[ \t]|\x1b\[[0-9;]*m)+$/.exec(line);
  return tail ? line.slice(0, tail.index) + tail[0].replace(/[ \t]+/g, '') : line;
}
