/**
 * A run or a comparison as ONE self-contained HTML file: inline CSS, charts as
 * inline SVG drawn here, and nothing fetched (no fonts, images, scripts or
 * links to anything; a Content-Security-Policy says so to the browser too). It
 * reads the same with scripts off: the cost-profile switcher is radio inputs
 * and `:checked ~` selectors.
 *
 * It holds (a) each label's latency CDF on a log-scale µs axis, (b) each
 * label's throughput with its spread over the rounds, (c) the modelled cost
 * per request by part as stacked bars (one chart per cost profile), (d) one
 * request's message sequence (a sequence diagram) when one is given, and (e)
 * a summary table whose every figure says whether it is host-measured,
 * counted or modelled, with its unit, and where and how it was measured.
 *
 * Every chart is an `<svg data-chart="KIND" role="img">` with a `<title>`,
 * inside a `<figure>` with a `<figcaption>`; each data mark (a line, a bar, a
 * bar segment, an arrow) has the class `mark`.
 */
import type { CompareResult, Comparison } from '../compare.js';
import type { RunReport } from '../run.js';
import { CPU_PARTS, price, type CpuPart, type Modelled } from '../costmodel/price.js';
import type { Profile } from '../costmodel/profile.js';
import type { MessageStep, RequestSequence } from '../trace/types.js';
import { median } from '../metrics/stats.js';
import { asComparison, isComparison, type Exportable } from './export.js';
import { bytes, count, rate, ratio, sig3, us } from './format.js';

/** What `toHtml` draws besides the report itself. */
export interface HtmlOptions {
  /**
   * Cost profiles to price each label's last run with, one stacked-bar chart
   * each (more than one: a switcher picks which is shown). Without any, the
   * chart shows the runs' own modelled figures (the profile they were run with).
   */
  profiles?: Profile[];
  /** One request's message sequence, drawn as a sequence diagram; without one, a note says how to record one. */
  sequence?: RequestSequence | null;
  /** The page's title (default: microlith, the workload and the labels). */
  title?: string;
}

/** The parts of a modelled request, in stacking order (disk last: device time, not processor time, unless the profile puts it on a processor). */
export const MODELLED_PARTS = [...CPU_PARTS, 'disk'] as const;

/** What each part of the modelled cost is, as the legend says it. */
export const PART_LABELS: Record<CpuPart | 'disk', string> = {
  app: 'app work',
  copies: 'copies',
  checksums: 'checksums',
  ipc: 'IPC transfer',
  contextSwitches: 'context switches',
  syscalls: 'kernel entries',
  frames: 'frames (stack + driver)',
  wire: 'simulated clients',
  disk: 'disk',
};

/** Colours of the labels (Okabe–Ito, told apart with colour-blindness) and of the parts. */
const LABEL_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#000000', '#F0E442'];
const PART_COLOURS: Record<CpuPart | 'disk', string> = {
  app: '#4e79a7',
  copies: '#e15759',
  checksums: '#f28e2b',
  ipc: '#76b7b2',
  contextSwitches: '#59a14f',
  syscalls: '#edc948',
  frames: '#b07aa1',
  wire: '#bab0ac',
  disk: '#9c755f',
};

/** Text made safe for HTML text and attribute values (& < > " ' escaped). */
export function escapeHtml(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const esc = escapeHtml;

const colourOf = (i: number) => LABEL_COLOURS[i % LABEL_COLOURS.length];
/** A coordinate to 0.1 px. */
const px = (x: number) => String(Math.round(x * 10) / 10);
/** Approximate width in px of `s` in the charts' 12 px sans-serif. */
const textWidth = (s: string, size = 12) => [...s].length * size * 0.6;

/** An `<svg>` chart: sized by its viewBox (it scales to the page), with a title and a description for assistive technology. */
function svgChart(kind: string, id: string, w: number, h: number, title: string, desc: string, body: string): string {
  return (
    `<svg data-chart="${esc(kind)}" id="${esc(id)}" viewBox="0 0 ${px(w)} ${px(h)}" width="${px(w)}" height="${px(h)}" role="img" aria-labelledby="${esc(id)}-title ${esc(id)}-desc">` +
    `<title id="${esc(id)}-title">${esc(title)}</title><desc id="${esc(id)}-desc">${esc(desc)}</desc>${body}</svg>`
  );
}

function figure(svgOrNote: string, caption: string): string {
  return `<figure>${svgOrNote}<figcaption>${caption}</figcaption></figure>`;
}

/** Round steps of 1, 2 or 5 × 10^k giving about `n` ticks from 0 to at least `max`. */
export function niceTicks(max: number, n = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

/** A tick value: whole numbers grouped, others to three significant digits. */
const tickText = (v: number) => (Number.isInteger(v) ? count(v) : sig3(v));

/** A legend row of swatches and names, starting at (x, y); wraps at `maxX`. Returns the markup and its height. */
function legend(items: { name: string; colour: string; dashed?: boolean }[], x0: number, y0: number, maxX: number): { svg: string; height: number } {
  let x = x0;
  let y = y0;
  const out: string[] = [];
  for (const it of items) {
    const w = 18 + 6 + textWidth(it.name) + 18;
    if (x + w > maxX && x > x0) {
      x = x0;
      y += 18;
    }
    out.push(
      `<g class="legend-item"><rect x="${px(x)}" y="${px(y - 9)}" width="18" height="10" fill="${it.colour}"/>` +
        `<text x="${px(x + 24)}" y="${px(y)}">${esc(it.name)}</text></g>`,
    );
    x += w;
  }
  return { svg: `<g class="legend">${out.join('')}</g>`, height: y - y0 + 18 };
}

/** The label column's width for horizontal bars: the longest label, within bounds. */
const labelColumn = (labels: string[]) => Math.min(220, Math.max(90, ...labels.map((l) => textWidth(l) + 16)));

// ---------------------------------------------------------------- (a) latency CDF

/** A label's latency CDF over its runs: at each percentile, the median over the runs of that percentile's µs. */
export function labelCdf(r: CompareResult): [percentile: number, us: number][] {
  const cdfs = r.reports.map((x) => x.latencyUs?.cdf).filter((c): c is [number, number][] => Array.isArray(c) && c.length > 0);
  if (cdfs.length === 0) return [];
  const ps = cdfs[0].map(([p]) => p);
  const same = cdfs.filter((c) => c.length === ps.length && c.every(([p], i) => p === ps[i]));
  return ps.map((p, i) => [p, median(same.map((c) => c[i][1]))]);
}

function cdfChart(c: Comparison): string {
  const lines = c.results.map((r, i) => ({ label: r.label, colour: colourOf(i), cdf: labelCdf(r) })).filter((l) => l.cdf.length);
  const missing = c.results.filter((r) => !lines.some((l) => l.label === r.label)).map((r) => r.label);
  if (lines.length === 0) {
    return figure(
      `<p class="note">No latency distribution: ${c.results.length ? 'no run of any label kept one (a run whose clients were lost with their domain has none, and reports from before it was recorded lack it)' : 'no round finished'}.</p>`,
      'Latency CDF per label (host-measured).',
    );
  }
  const all = lines.flatMap((l) => l.cdf.map(([, v]) => Math.max(1, v)));
  const lo = Math.floor(Math.log10(Math.min(...all)));
  let hi = Math.ceil(Math.log10(Math.max(...all)));
  if (hi <= lo) hi = lo + 1;
  const W = 760;
  const left = 56;
  const right = 40;
  const top = 16;
  const plotH = 240;
  const plotW = W - left - right;
  const x = (v: number) => left + ((Math.log10(Math.max(1, v)) - lo) / (hi - lo)) * plotW;
  const y = (p: number) => top + plotH - (p / 100) * plotH;
  const parts: string[] = [];
  // grid: powers of ten (labelled) and their 2..9 multiples (light)
  for (let k = lo; k <= hi; k++) {
    const v = 10 ** k;
    parts.push(`<line class="grid major" x1="${px(x(v))}" x2="${px(x(v))}" y1="${top}" y2="${top + plotH}"/>`);
    parts.push(`<text class="tick" x="${px(x(v))}" y="${top + plotH + 16}" text-anchor="middle">${esc(tickText(v))}</text>`);
    if (k < hi) for (let m = 2; m <= 9; m++) parts.push(`<line class="grid minor" x1="${px(x(m * v))}" x2="${px(x(m * v))}" y1="${top}" y2="${top + plotH}"/>`);
  }
  for (const p of [0, 25, 50, 75, 90, 99, 100]) {
    const cls = p === 90 || p === 99 ? 'grid minor' : 'grid major';
    parts.push(`<line class="${cls}" x1="${left}" x2="${left + plotW}" y1="${px(y(p))}" y2="${px(y(p))}"/>`);
    if (p !== 90 && p !== 99) parts.push(`<text class="tick" x="${left - 6}" y="${px(y(p) + 4)}" text-anchor="end">${p}</text>`);
  }
  parts.push(`<text class="tick" x="${left + plotW - 4}" y="${px(y(99) + 11)}" text-anchor="end">p99</text>`);
  parts.push(`<rect class="frame" x="${left}" y="${top}" width="${px(plotW)}" height="${plotH}"/>`);
  for (const l of lines) {
    const d = l.cdf.map(([p, v], j) => `${j ? 'L' : 'M'}${px(x(v))},${px(y(p))}`).join(' ');
    const at = (q: number) => l.cdf.find(([p]) => p === q)?.[1];
    const tip = `${l.label}: min ${us(l.cdf[0][1])} µs, p50 ${us(at(50) ?? NaN)} µs, p99 ${us(at(99) ?? NaN)} µs, max ${us(l.cdf[l.cdf.length - 1][1])} µs (host-measured)`;
    parts.push(`<path class="mark cdf-line" data-label="${esc(l.label)}" d="${d}" stroke="${l.colour}"><title>${esc(tip)}</title></path>`);
  }
  parts.push(`<text class="axis-title" x="${px(left + plotW / 2)}" y="${top + plotH + 34}" text-anchor="middle">latency, µs (log scale), host-measured</text>`);
  parts.push(`<text class="axis-title" transform="translate(14 ${px(top + plotH / 2)}) rotate(-90)" text-anchor="middle">percentile of requests</text>`);
  const leg = legend(lines.map((l) => ({ name: l.label, colour: l.colour })), left, top + plotH + 56, W - right);
  parts.push(leg.svg);
  const H = top + plotH + 56 + leg.height;
  const svg = svgChart(
    'cdf',
    'chart-cdf',
    W,
    H,
    'Latency CDF per label',
    `The share of requests (percentile, 0 to 100) answered within each latency in microseconds, on a log scale, one line per label: ${lines.map((l) => l.label).join(', ')}.`,
    parts.join(''),
  );
  return figure(
    svg,
    `Latency CDF per label: the percentage of requests answered within a latency (µs, log scale), host-measured round trips; ` +
      `at each percentile the median over the label's runs (from the HDR histogram; 0 is the fastest request, 100 the slowest).` +
      (missing.length ? ` No distribution for ${esc(missing.join(', '))}.` : ''),
  );
}

// ---------------------------------------------------------------- (b) throughput

function throughputChart(c: Comparison): string {
  if (c.results.length === 0) return figure('<p class="note">No throughput: no round finished.</p>', 'Throughput per label (host-measured).');
  const W = 760;
  const left = labelColumn(c.results.map((r) => r.label));
  const right = 190;
  const top = 10;
  const rowH = 34;
  const barH = 18;
  const plotW = W - left - right;
  const plotH = rowH * c.results.length;
  const ticks = niceTicks(Math.max(...c.results.map((r) => Math.max(r.requestsPerSec.max, r.requestsPerSec.mean))));
  const max = ticks[ticks.length - 1];
  const x = (v: number) => left + (Math.max(0, v) / max) * plotW;
  const parts: string[] = [];
  for (const t of ticks) {
    parts.push(`<line class="grid major" x1="${px(x(t))}" x2="${px(x(t))}" y1="${top}" y2="${top + plotH}"/>`);
    parts.push(`<text class="tick" x="${px(x(t))}" y="${top + plotH + 16}" text-anchor="middle">${esc(tickText(t))}</text>`);
  }
  c.results.forEach((r, i) => {
    const s = r.requestsPerSec;
    const y0 = top + i * rowH + (rowH - barH) / 2;
    const cy = y0 + barH / 2;
    const tip = `${r.label}: ${rate(s.mean)} ± ${rate(s.stdev)} req/s (mean ± σ), median ${rate(s.median)}, min ${rate(s.min)}, max ${rate(s.max)}, ${count(s.n)} run${s.n === 1 ? '' : 's'} (host-measured)`;
    parts.push(`<text class="label" x="${left - 8}" y="${px(cy + 4)}" text-anchor="end">${esc(r.label)}</text>`);
    parts.push(`<rect class="mark bar" data-label="${esc(r.label)}" x="${left}" y="${px(y0)}" width="${px(x(s.mean) - left)}" height="${barH}" fill="${colourOf(i)}"><title>${esc(tip)}</title></rect>`);
    if (s.stdev > 0) parts.push(`<rect class="sigma" x="${px(x(s.mean - s.stdev))}" y="${px(cy - 3)}" width="${px(x(s.mean + s.stdev) - x(s.mean - s.stdev))}" height="6"><title>${esc(`σ ${rate(s.stdev)} req/s`)}</title></rect>`);
    parts.push(
      `<g class="whisker"><line x1="${px(x(s.min))}" x2="${px(x(s.max))}" y1="${px(cy)}" y2="${px(cy)}"/>` +
        `<line x1="${px(x(s.min))}" x2="${px(x(s.min))}" y1="${px(cy - 7)}" y2="${px(cy + 7)}"/>` +
        `<line x1="${px(x(s.max))}" x2="${px(x(s.max))}" y1="${px(cy - 7)}" y2="${px(cy + 7)}"/></g>`,
    );
    parts.push(`<text class="value" x="${px(Math.max(x(s.max), x(s.mean)) + 8)}" y="${px(cy + 4)}">${esc(`${rate(s.mean)} ± ${rate(s.stdev)} req/s`)}</text>`);
  });
  parts.push(`<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}"/>`);
  parts.push(`<text class="axis-title" x="${px(left + plotW / 2)}" y="${top + plotH + 34}" text-anchor="middle">requests per second, host-measured</text>`);
  const H = top + plotH + 44;
  const svg = svgChart(
    'throughput',
    'chart-throughput',
    W,
    H,
    'Throughput per label',
    `Host-measured requests per second of each label: the bar is the mean over the runs, the whisker runs from the slowest run to the fastest, the dark band is ± one standard deviation.`,
    parts.join(''),
  );
  return figure(
    svg,
    `Throughput per label, host-measured on this machine (requests per second): bar = mean over each label's ${esc(count(c.results[0].requestsPerSec.n))} run${c.results[0].requestsPerSec.n === 1 ? '' : 's'}, ` +
      `whisker = min…max, dark band = mean ± σ (sample standard deviation).`,
  );
}

// ---------------------------------------------------------------- (c) modelled cost by part

/** One label's modelled cost under one profile. */
interface Priced {
  label: string;
  modelled: Modelled;
}

/** Each label's last run priced by `profile` (or, without one, as the run priced itself). */
export function pricedLabels(c: Comparison, profile: Profile | null): Priced[] {
  return c.results.map((r) => {
    const last = r.reports[r.reports.length - 1];
    if (!profile) return { label: r.label, modelled: last.modelled };
    const done = last.outcomes.ok + last.outcomes.fail + last.outcomes.info;
    return { label: r.label, modelled: price(profile, last.mode, last.countersByServer, last.domains, done) };
  });
}

/** The parts of `m` drawn as segments: those above zero. */
export function drawnParts(m: Modelled): (CpuPart | 'disk')[] {
  return MODELLED_PARTS.filter((k) => (m.perRequestUs[k] ?? 0) > 0);
}

function modelledChart(priced: Priced[], id: string, kindLabel: string): string {
  const W = 760;
  const left = labelColumn(priced.map((p) => p.label));
  const right = 230;
  const top = 10;
  const rowH = 34;
  const barH = 20;
  const plotW = W - left - right;
  const plotH = rowH * priced.length;
  const totals = priced.map((p) => drawnParts(p.modelled).reduce((a, k) => a + p.modelled.perRequestUs[k], 0));
  const ticks = niceTicks(Math.max(0, ...totals));
  const max = ticks[ticks.length - 1];
  const x = (v: number) => (v / max) * plotW;
  const parts: string[] = [];
  for (const t of ticks) {
    parts.push(`<line class="grid major" x1="${px(left + x(t))}" x2="${px(left + x(t))}" y1="${top}" y2="${top + plotH}"/>`);
    parts.push(`<text class="tick" x="${px(left + x(t))}" y="${top + plotH + 16}" text-anchor="middle">${esc(tickText(t))}</text>`);
  }
  const used = new Set<CpuPart | 'disk'>();
  priced.forEach((p, i) => {
    const y0 = top + i * rowH + (rowH - barH) / 2;
    parts.push(`<text class="label" x="${left - 8}" y="${px(y0 + barH / 2 + 4)}" text-anchor="end">${esc(p.label)}</text>`);
    let at = left;
    const segs: string[] = [];
    for (const k of drawnParts(p.modelled)) {
      used.add(k);
      const v = p.modelled.perRequestUs[k];
      const tip = `${p.label}: ${PART_LABELS[k]} ${us(v)} µs per request (${kindLabel})`;
      segs.push(`<rect class="mark seg" data-part="${k}" x="${px(at)}" y="${px(y0)}" width="${px(x(v))}" height="${barH}" fill="${PART_COLOURS[k]}"><title>${esc(tip)}</title></rect>`);
      at += x(v);
    }
    parts.push(`<g class="stack" data-label="${esc(p.label)}">${segs.join('')}</g>`);
    parts.push(
      `<text class="value" x="${px(at + 8)}" y="${px(y0 + barH / 2 + 4)}">${esc(`${us(totals[i])} µs · ${rate(p.modelled.requestsPerSec)} req/s, bound by ${p.modelled.bottleneck}`)}</text>`,
    );
  });
  parts.push(`<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}"/>`);
  parts.push(`<text class="axis-title" x="${px(left + plotW / 2)}" y="${top + plotH + 34}" text-anchor="middle">µs per request, ${esc(kindLabel)}</text>`);
  const leg = legend(
    MODELLED_PARTS.filter((k) => used.has(k)).map((k) => ({ name: PART_LABELS[k], colour: PART_COLOURS[k] })),
    left,
    top + plotH + 56,
    W - 10,
  );
  parts.push(leg.svg);
  const H = top + plotH + 56 + leg.height;
  return svgChart(
    'modelled',
    id,
    W,
    H,
    `Modelled cost per request by part, ${kindLabel}`,
    `Stacked bars, one per label: the microseconds per request each part of the work costs when the counted events are priced by the cost profile (${kindLabel}); not measured.`,
    parts.join(''),
  );
}

function modelledSection(c: Comparison, profiles: Profile[]): string {
  if (c.results.length === 0) return figure('<p class="note">No modelled cost: no round finished.</p>', 'Modelled cost per request by part.');
  const caption = (what: string) =>
    `Modelled cost per request by part, ${what}: each label's last run, its counted events priced by the cost profile (not measured). ` +
    `Processor parts, then the disk's time (device time, or the disk server's processor time when the profile puts transfers on a processor). ` +
    `The text gives the total, the modelled throughput and what bounds it.`;
  if (profiles.length <= 1) {
    const p = profiles[0] ?? null;
    const priced = pricedLabels(c, p);
    const kindLabel = priced[0].modelled.label;
    return figure(modelledChart(priced, 'chart-modelled-0', kindLabel), esc(caption(kindLabel)));
  }
  // the runs' own profile first shown, if it is one of those given
  const own = c.results[0].modelled.profile;
  const shown = Math.max(0, profiles.findIndex((p) => p.name === own));
  const radios = profiles.map((p, i) => `<input type="radio" name="profile" id="profile-${i}" class="profile-radio"${i === shown ? ' checked' : ''}>`).join('');
  const tabs = profiles.map((p, i) => `<label for="profile-${i}">${esc(p.name)}</label>`).join('');
  const charts = profiles
    .map((p, i) => {
      const priced = pricedLabels(c, p);
      const kindLabel = priced[0].modelled.label;
      return `<div class="profile-chart profile-chart-${i}" data-profile="${esc(p.name)}">${figure(modelledChart(priced, `chart-modelled-${i}`, kindLabel), esc(caption(kindLabel)))}</div>`;
    })
    .join('');
  return (
    `<div class="switcher">${radios}<div class="profile-tabs" role="group" aria-label="cost profile"><span>cost profile:</span> ${tabs}</div>` +
    `<div class="profile-charts">${charts}</div></div>`
  );
}

/** The CSS showing the chart of the checked profile only (no script). */
function switcherCss(n: number): string {
  if (n <= 1) return '';
  const rules: string[] = ['.profile-chart{display:none}'];
  for (let i = 0; i < n; i++) {
    rules.push(`#profile-${i}:checked~.profile-charts .profile-chart-${i}{display:block}`);
    rules.push(`#profile-${i}:checked~.profile-tabs label[for="profile-${i}"]{background:#0b3d66;color:#fff;border-color:#0b3d66}`);
    rules.push(`#profile-${i}:focus-visible~.profile-tabs label[for="profile-${i}"]{outline:2px solid #0072B2;outline-offset:2px}`);
  }
  rules.push('@media print{.profile-chart{display:block}.profile-tabs{display:none}}');
  return rules.join('\n');
}

// ---------------------------------------------------------------- (d) message sequence

/** The lifelines of a sequence: the wire first, then everyone else in order of first appearance. */
export function lifelines(seq: RequestSequence): string[] {
  const names: string[] = [];
  for (const s of seq.steps) for (const n of [s.from, s.to]) if (!names.includes(n)) names.push(n);
  return names.includes('wire') ? ['wire', ...names.filter((n) => n !== 'wire')] : names;
}

/** At most this many steps are drawn. */
export const MAX_SEQUENCE_STEPS = 400;

function sequenceChart(seq: RequestSequence | null | undefined): string {
  if (!seq) {
    return figure(
      '<p class="note">No message sequence in this report. Run with <code>--trace</code> to record the messages of a sampled request; the report then draws them here, one arrow per message between the servers.</p>',
      'Message sequence of one request.',
    );
  }
  if (seq.steps.length === 0) return figure(`<p class="note">The sampled request ${esc(seq.request)} recorded no messages.</p>`, 'Message sequence of one request.');
  const names = lifelines(seq);
  const steps = seq.steps.slice(0, MAX_SEQUENCE_STEPS);
  const colW = Math.max(120, ...names.map((n) => textWidth(n) + 24));
  const side = 30;
  const W = Math.max(500, side * 2 + colW * names.length);
  const span = W - 2 * side;
  const cx = (n: string) => side + (names.indexOf(n) + 0.5) * (span / names.length);
  const top = 10;
  const headH = 26;
  const rowH = 32;
  const first = top + headH + 30;
  const bottom = first + (steps.length - 1) * rowH + 24;
  const parts: string[] = [
    '<defs><marker id="seq-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>',
  ];
  for (const n of names) {
    const x = cx(n);
    const w = textWidth(n) + 16;
    parts.push(
      `<g class="lifeline" data-name="${esc(n)}"><rect x="${px(x - w / 2)}" y="${top}" width="${px(w)}" height="${headH}" rx="3"/>` +
        `<text x="${px(x)}" y="${top + 17}" text-anchor="middle">${esc(n)}</text>` +
        `<line x1="${px(x)}" x2="${px(x)}" y1="${top + headH}" y2="${px(bottom)}"/></g>`,
    );
  }
  steps.forEach((s: MessageStep, i) => {
    const y = first + i * rowH;
    const x1 = cx(s.from);
    const x2 = cx(s.to);
    const text = `${s.type} · ${us(s.sentUs)}→${us(s.handledUs)} µs`;
    const tip = `${s.kind === 'reply' ? 'reply' : 'call'} ${s.type} from ${s.from} to ${s.to}: sent ${us(s.sentUs)} µs, handled ${us(s.handledUs)} µs after the request arrived (host-measured)`;
    const cls = `mark step ${s.kind === 'reply' ? 'reply' : 'call'}`;
    if (x1 === x2) {
      parts.push(`<path class="${cls}" d="M${px(x1)},${px(y - 6)} h36 v14 h-34" marker-end="url(#seq-arrow)"><title>${esc(tip)}</title></path>`);
      parts.push(`<text class="step-label" x="${px(x1 + 42)}" y="${px(y + 4)}">${esc(text)}</text>`);
    } else {
      parts.push(`<path class="${cls}" d="M${px(x1)},${px(y)} L${px(x2 + (x2 > x1 ? -1 : 1))},${px(y)}" marker-end="url(#seq-arrow)"><title>${esc(tip)}</title></path>`);
      parts.push(`<text class="step-label" x="${px((x1 + x2) / 2)}" y="${px(y - 5)}" text-anchor="middle">${esc(text)}</text>`);
    }
  });
  const H = bottom + 10;
  const svg = svgChart(
    'sequence',
    'chart-sequence',
    W,
    H,
    `Message sequence of request ${seq.request}`,
    `A sequence diagram: one lifeline per server and the wire (${names.join(', ')}), one arrow per message in the order sent, calls solid and replies dashed, each labelled with its message type and the µs after the request arrived when it was sent and handled.`,
    parts.join(''),
  );
  const cut = seq.steps.length > steps.length ? ` The first ${esc(count(steps.length))} of ${esc(count(seq.steps.length))} messages are drawn.` : '';
  return figure(
    svg,
    `Message sequence of request ${esc(seq.request)} (id ${esc(seq.reqId)}): ${esc(count(seq.steps.length))} message${seq.steps.length === 1 ? '' : 's'}; ` +
      `calls solid, replies dashed; each arrow says its message type and when it was sent → handled, in µs after the request arrived (host-measured).${cut}`,
  );
}

// ---------------------------------------------------------------- (e) summary

function arrivalText(w: RunReport['workload']): string {
  const a = w.arrival;
  const load =
    a.kind === 'open'
      ? `open loop at ${rate(a.ratePerSec)} req/s, at most ${count(a.maxInFlight)} in flight`
      : `${count(w.clients)} closed-loop client${w.clients === 1 ? '' : 's'}${a.thinkTimeMs ? `, ${sig3(a.thinkTimeMs)} ms think time` : ''}`;
  return w.durationMs ? `${load}, for ${count(w.durationMs)} ms` : load;
}

/** One row of the summary: a figure, its kind and unit, and its value for each label. */
interface SummaryRow {
  figure: string;
  kind: 'host' | 'counted' | 'modelled';
  unit: string;
  value: (r: CompareResult, last: RunReport) => string;
}

function summaryRows(c: Comparison): SummaryRow[] {
  const lat = (k: 'p50' | 'p99') => (r: CompareResult) => (r.latencyUs ? us(r.latencyUs[k]) : 'n/a');
  return [
    { figure: 'throughput, mean ± σ', kind: 'host', unit: 'req/s', value: (r) => `${rate(r.requestsPerSec.mean)} ± ${rate(r.requestsPerSec.stdev)}` },
    { figure: 'throughput, median', kind: 'host', unit: 'req/s', value: (r) => rate(r.requestsPerSec.median) },
    { figure: 'throughput, min…max', kind: 'host', unit: 'req/s', value: (r) => `${rate(r.requestsPerSec.min)}…${rate(r.requestsPerSec.max)}` },
    { figure: `throughput ratio to ${c.baseline}, mean ± σ (paired runs)`, kind: 'host', unit: '×', value: (r) => `${ratio(r.ratio.mean)} ± ${sig3(r.ratio.stdev)}` },
    { figure: 'latency p50, round trip (median over runs)', kind: 'host', unit: 'µs', value: lat('p50') },
    { figure: 'latency p99, round trip (median over runs)', kind: 'host', unit: 'µs', value: lat('p99') },
    { figure: 'bytes copied per request', kind: 'counted', unit: 'bytes', value: (_r, l) => bytes(l.perRequest.bytesCopied) },
    { figure: 'IPC messages per request', kind: 'counted', unit: 'messages', value: (_r, l) => sig3(l.perRequest.ipcMessages) },
    { figure: 'domain crossings per request', kind: 'counted', unit: 'crossings', value: (_r, l) => sig3(l.perRequest.crossings) },
    { figure: 'direct calls per request', kind: 'counted', unit: 'calls', value: (_r, l) => sig3(l.perRequest.directCalls) },
    { figure: 'processor time per request', kind: 'modelled', unit: 'µs', value: (r) => us(r.modelled.cpuUsPerRequest) },
    { figure: 'disk time per request', kind: 'modelled', unit: 'µs', value: (_r, l) => us(l.modelled.diskUsPerRequest) },
    { figure: 'throughput', kind: 'modelled', unit: 'req/s', value: (r) => rate(r.modelled.requestsPerSec) },
    { figure: `throughput ratio to ${c.baseline}`, kind: 'modelled', unit: '×', value: (r) => ratio(r.modelled.ratio) },
    { figure: 'bound by', kind: 'modelled', unit: '', value: (r) => r.modelled.bottleneck },
  ];
}

/** The summary: one row per figure (with its kind and unit), one column per label. */
function summaryTable(c: Comparison): string {
  if (c.results.length === 0) return '<p class="note">No round finished: nothing to summarise.</p>';
  const modelledKind = c.results[0].modelled.label;
  const kindText = { host: 'host-measured', counted: 'counted', modelled: modelledKind } as const;
  const head =
    '<tr><th scope="col">figure</th><th scope="col">kind</th><th scope="col">unit</th>' +
    c.results.map((r) => `<th scope="col" class="label-col">${esc(r.label)}<br><span class="runs">${esc(count(r.requestsPerSec.n))} run${r.requestsPerSec.n === 1 ? '' : 's'}</span></th>`).join('') +
    '</tr>';
  const rows = summaryRows(c).map((row) => {
    const cells = c.results.map((r) => `<td>${esc(row.value(r, r.reports[r.reports.length - 1]))}</td>`).join('');
    return `<tr class="${row.kind}"><th scope="row">${esc(row.figure)}</th><td class="kind">${esc(kindText[row.kind])}</td><td class="unit">${esc(row.unit)}</td>${cells}</tr>`;
  });
  return (
    `<div class="table-wrap"><table><caption>Summary per label. host-measured: this machine's clock, over each label's measured runs. ` +
    `counted: deterministic events of the last run, per completed request. ${esc(modelledKind)}: the counted events of the last run priced by that cost profile, not measured.</caption>` +
    `<thead>${head}</thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}

function facts(c: Comparison, single: boolean): string {
  const reports = c.results.flatMap((r) => r.reports);
  const first = reports[0];
  const w = c.workload;
  const seeds = (c.seeds ?? []).length ? c.seeds.map(String) : [...new Set(reports.map((r) => String(r.workload.seed)))];
  const notOk = c.results.flatMap((r) => r.reports.filter((x) => x.status !== 'ok').map((x) => `${r.label}: ${x.status}${x.problems.length ? ` (${x.problems.join('; ')})` : ''}`));
  const items: [string, string][] = [
    ['workload', `${w.name}: ${count(w.requests)} requests, ${arrivalText(w)}`],
    [seeds.length > 1 ? 'seeds' : 'seed', (seeds.length ? seeds : [String(w.seed)]).join(', ')],
    [
      'rounds',
      single
        ? '1 run'
        : `${count(c.rounds)} measured, interleaved${seeds.length > 1 ? ` (${count(c.rounds * seeds.length)} runs per label: every round runs each seed)` : ''}` +
          `${c.complete ? '' : ` (stopped early: ${count(c.rounds)} of ${count(c.roundsPlanned)} planned)`}`,
    ],
    ['labels', `${c.results.map((r) => r.label).join(', ')} (baseline ${c.baseline})`],
    ['answers', c.digestsEqual ? `the same in every run that ended ok${first ? ` (digest ${first.digest})` : ''}` : 'DIFFERENT: the response digests differ between runs'],
    ['runs', notOk.length ? `${count(reports.length - notOk.length)} of ${count(reports.length)} ok; ${notOk.join(' | ')}` : `${count(reports.length)} of ${count(reports.length)} ok`],
  ];
  if (first) {
    const e = first.env;
    items.push(['environment', `node ${e.node}, ${e.platform}/${e.arch}, ${count(e.cpus)} CPUs, ${e.cpuModel}`]);
    items.push(['tool', `${first.tool.name} ${first.tool.version}`]);
  }
  items.push(['schema version', String(c.schemaVersion)]);
  const warnings = single ? [] : (c.warnings ?? []);
  const warned = warnings.length ? `<div class="warnings"><h3>Figures not to trust</h3><ul>${warnings.map((x) => `<li>${esc(x)}</li>`).join('')}</ul></div>` : '';
  return `<dl class="facts">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>${warned}`;
}

// ---------------------------------------------------------------- the page

const CSS = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;padding:24px;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1a1a1a;background:#fff}
main{max-width:1000px;margin:0 auto}
h1{font-size:1.5rem;margin:0 0 .25rem}
h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid #ddd;padding-bottom:.25rem}
.lede{margin:.25rem 0;color:#444}
figure{margin:0 0 1rem}
figcaption{font-size:.875rem;color:#444;max-width:760px}
svg{display:block;max-width:100%;height:auto;font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#1a1a1a}
svg text{fill:#1a1a1a}
svg .tick,svg .value{fill:#333}
svg .axis-title{fill:#444}
svg .grid{stroke:#e2e2e2;stroke-width:1}
svg .grid.minor{stroke:#f0f0f0}
svg .frame{fill:none;stroke:#bbb}
svg .axis{stroke:#888}
svg .cdf-line{fill:none;stroke-width:2.25;stroke-linejoin:round}
svg .sigma{fill:#000;fill-opacity:.35}
svg .whisker line{stroke:#222;stroke-width:1.5}
svg .lifeline rect{fill:#f4f6f8;stroke:#777}
svg .lifeline line{stroke:#999;stroke-dasharray:4 4}
svg .step{fill:none;stroke:#333;stroke-width:1.5}
svg .step.reply{stroke-dasharray:6 4}
svg .step-label{font-size:11px}
.note{background:#f6f8fa;border-left:4px solid #0072B2;padding:.5rem .75rem;max-width:760px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.switcher{position:relative}
.profile-radio{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.profile-tabs{margin:.25rem 0 .75rem;display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
.profile-tabs label{border:1px solid #999;border-radius:4px;padding:.15rem .6rem;cursor:pointer;font-size:.875rem}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:.875rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-size:.875rem;color:#444;padding-bottom:.4rem;max-width:760px}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;vertical-align:top;white-space:nowrap}
th[scope=row],td.kind,td.unit,thead th{text-align:left}
thead th{background:#f6f8fa}
thead th.label-col{text-align:right}
th[scope=row]{font-weight:normal;white-space:normal;min-width:14rem}
.runs{font-weight:normal;color:#555;font-size:.8rem}
tr.host>*{background-color:#eef5fb}
tr.counted>*{background-color:#eef8f1}
tr.modelled>*{background-color:#f8eef5}
td.kind{font-weight:600}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;font-size:.9rem}
.facts dt{font-weight:600}
.facts dd{margin:0}
.warnings{border-left:4px solid #D55E00;background:#fdf3ec;padding:.25rem .75rem;margin-top:1rem;max-width:760px}
.warnings h3{font-size:1rem;margin:.25rem 0}
`;

/**
 * The report as one self-contained HTML page (see the module's comment): a
 * comparison, or a single run shown as a comparison of one label and one
 * round. Everything put in it from the report is escaped.
 */
export function toHtml(x: Comparison | RunReport, opts: HtmlOptions = {}): string {
  const c = asComparison(x);
  const single = !isComparison(x);
  const labels = c.results.map((r) => r.label);
  const title = opts.title ?? `microlith ${single ? 'run' : 'compare'}: ${c.workload.name}${labels.length ? `, ${labels.join(' vs ')}` : ''}`;
  const profiles = opts.profiles ?? [];
  const w = c.workload;
  const body = [
    `<header><h1>${esc(title)}</h1>`,
    `<p class="lede">${esc(`${w.name}, seed ${w.seed}, ${count(w.requests)} requests, ${single ? 'one run' : `${count(c.rounds)} interleaved round${c.rounds === 1 ? '' : 's'}`}, baseline ${c.baseline}.`)} ` +
      `Figures are <strong>host-measured</strong> (this machine's clock), <strong>counted</strong> (deterministic events) or <strong>modelled</strong> (counted events priced by a cost profile).</p></header>`,
    '<main>',
    `<section id="latency"><h2>Latency</h2>${cdfChart(c)}</section>`,
    `<section id="throughput"><h2>Throughput</h2>${throughputChart(c)}</section>`,
    `<section id="modelled"><h2>Modelled cost per request</h2>${modelledSection(c, profiles)}</section>`,
    `<section id="sequence"><h2>Message sequence</h2>${sequenceChart(opts.sequence)}</section>`,
    `<section id="summary"><h2>Summary</h2>${summaryTable(c)}${facts(c, single)}</section>`,
    '</main>',
  ].join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // nothing is fetched: no scripts, fonts, images or connections of any kind
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${esc(`${c.results[0]?.reports[0]?.tool.name ?? 'microlith'} ${c.results[0]?.reports[0]?.tool.version ?? ''}`.trim())}">`,
    `<title>${esc(title)}</title>`,
    `<style>${CSS}${switcherCss(profiles.length)}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
