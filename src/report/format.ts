/**
 * One number format per kind of figure, shared by every table in `text.ts`:
 * whole counts with thousands separators; rates, ratios, averages and times to
 * three significant digits; bytes in binary units (B, KiB, MiB, GiB); shares and
 * errors as whole percentages. Pure functions of the number; anything not finite
 * is 'n/a'. They return the number alone; the header or the caller adds the unit.
 */

const NA = 'n/a';
const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A whole count: 2000 -> '2,000' (rounded to the nearest integer). */
export function count(n: number): string {
  return Number.isFinite(n) ? GROUPED.format(Math.round(n)) : NA;
}

/**
 * Three significant digits, grouped in thousands: 7756 -> '7,760',
 * 0.3664 -> '0.366', 8 -> '8.00', 0 -> '0'. For rates, ratios, averages and times.
 */
export function sig3(x: number): string {
  if (!Number.isFinite(x)) return NA;
  if (x === 0) return '0';
  const s = Math.abs(x).toPrecision(3);
  const body = Math.abs(x) >= 1000 ? GROUPED.format(Number(s)) : s;
  return x < 0 ? `−${body}` : body;
}

/** A rate (requests/s, bytes/s before units): three significant digits. */
export const rate = sig3;

/** Microseconds or milliseconds: three significant digits, grouped (13727 -> '13,700'). */
export const us = sig3;
export const ms = sig3;

/** A ratio of two like figures, marked ×: 0.3664 -> '0.366×'. */
export function ratio(x: number): string {
  return Number.isFinite(x) ? `${sig3(x)}×` : NA;
}

const BINARY_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Bytes: below 1 KiB a whole number of B, above in KiB/MiB/GiB to three significant digits (14301 -> '14.0 KiB'). */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return NA;
  if (Math.round(Math.abs(n)) < 1024) return `${count(n)} B`;
  let v = n / 1024;
  let i = 0;
  // at most three digits before the point: 1,048,576 B is '1.00 MiB', not '1,020 KiB'
  while (i < BINARY_UNITS.length - 1 && Math.abs(Number(v.toPrecision(3))) >= 1000) {
    v /= 1024;
    i++;
  }
  return `${sig3(v)} ${BINARY_UNITS[i]}`;
}

/** A byte rate: bytes(n) per second ('39.7 MiB/s'). */
export function bytesPerSec(n: number): string {
  return Number.isFinite(n) ? `${bytes(n)}/s` : NA;
}

/** A share of a whole (0..1) as a whole percentage: 0.344 -> '34%'. */
export function pct(fraction: number): string {
  return Number.isFinite(fraction) ? `${count(fraction * 100)}%` : NA;
}

/** A relative error (model / measured − 1) as a signed whole percentage: 0.171 -> '+17%', −0.13 -> '−13%'. */
export function signedPct(fraction: number): string {
  if (!Number.isFinite(fraction)) return NA;
  const p = Math.round(fraction * 100);
  return p > 0 ? `+${count(p)}%` : p < 0 ? `−${count(-p)}%` : '0%';
}

/**
 * A cost-profile parameter as the profile gives it (all its digits, grouped):
 * the parameters are sourced inputs whose derivations quote them exactly.
 */
export function exact(x: number): string {
  return Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: 6 }) : NA;
}
