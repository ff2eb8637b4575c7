/**
 * Finding, reading and validating workload files. Every problem becomes one
 * WorkloadError line, never a stack:
 *
 *   <file>:<line>:<column> <field path>: <what is wrong>
 *   e.g. my.json:7:14 fileSet.classes[1].weight: expected a number > 0
 *
 * or `<file>: <what is wrong>` when the file itself cannot be used (missing, a
 * directory, too large). Lines and columns are 1-based; columns count characters.
 * The first problem is reported: invalid UTF-8, then invalid JSON, then a
 * refused key (__proto__, constructor, prototype, or a key given twice), then
 * the first issue the zod schema finds, in zod's order.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { packageDir } from '../paths.js';
import type { core, z } from 'zod';
import { workloadJsonSchema, type JsonSchemaNode } from './json-schema.js';
import {
  formatPath,
  positionAt,
  quoteKey,
  resolvePath,
  scanJson,
  type ArrayNode,
  type JsonNode,
  type ObjectNode,
  type PathKey,
  type ScanFailure,
} from './locate.js';
import { WorkloadSchema, type Workload } from './schema.js';

/** The workloads shipped with microlith. */
export const WORKLOAD_DIR = packageDir('workloads');
export const MAX_WORKLOAD_BYTES = 1024 * 1024;

/** Where a problem is, when it is in the text (not for a missing file, say). */
export interface WorkloadErrorPlace {
  file: string;
  line: number;
  column: number;
  /** The field path as shown, e.g. `fileSet.classes[1].weight` or `(top level)`. */
  path: string;
}

/**
 * A workload or cost profile file that cannot be used (unknown name, unreadable,
 * too large, not JSON, or against its schema): a one-line message, and `place`
 * (file, line, column, field path) when the problem is in the text.
 */
export class WorkloadError extends Error {
  readonly place: WorkloadErrorPlace | undefined;
  constructor(message: string, place?: WorkloadErrorPlace) {
    super(message);
    this.name = 'WorkloadError';
    this.place = place;
  }
}

/** Keys refused anywhere in a workload file: they name or reach object prototypes. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Names of the shipped workloads. */
export function shippedWorkloads(): string[] {
  return readdirSync(WORKLOAD_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** A shipped workload by name, or a workload file by path (anything with a / or ending in .json). */
export function loadWorkload(nameOrPath: string): Workload {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  if (!isPath && !shippedWorkloads().includes(nameOrPath)) {
    throw new WorkloadError(
      `unknown workload '${nameOrPath}' (shipped: ${shippedWorkloads().join(', ')}; or give a path to a .json file)`,
    );
  }
  const file = isPath ? resolve(nameOrPath) : resolve(WORKLOAD_DIR, `${nameOrPath}.json`);
  const shown = isPath ? nameOrPath : `workloads/${basename(file)}`;
  return parseWorkloadBytes(readWorkloadFile(file, shown), shown);
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

function cannotRead(shown: string, e: unknown): WorkloadError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === undefined) return new WorkloadError(`${shown}: cannot read: ${oneLine(String(e))}`);
  return new WorkloadError(`${shown}: cannot read: ${ERRNO_TEXT[code] ?? 'error'} (${code})`);
}

/**
 * A kind of JSON input file: what it is called in messages, its zod schema, and
 * the JSON Schema generated from it (which the messages read to say what a
 * field expects). Workload files are one kind; cost profiles another.
 */
export interface JsonFileKind<T> {
  what: string;
  schema: z.ZodType<T>;
  jsonSchema: () => JsonSchemaNode;
}

export const WORKLOAD_FILE: JsonFileKind<Workload> = { what: 'workload', schema: WorkloadSchema, jsonSchema: workloadJsonSchema };

/** Read and validate the JSON file `file` of `kind`; `shown` names it in errors (WorkloadError, one line). */
export function loadJsonFile<T>(file: string, shown: string, kind: JsonFileKind<T>): T {
  return parseJsonBytes(readWorkloadFile(file, shown, kind.what), shown, kind);
}

/** The bytes of a regular file of at most MAX_WORKLOAD_BYTES (checked again while reading, in case it grew). */
function readWorkloadFile(file: string, shown: string, what = 'workload'): Buffer {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new WorkloadError(`${shown}: is a directory, not a ${what} file`);
    if (!st.isFile()) throw new WorkloadError(`${shown}: not a regular file`);
    size = st.size;
  } catch (e) {
    throw e instanceof WorkloadError ? e : cannotRead(shown, e);
  }
  const tooBig = (what: string) => new WorkloadError(`${shown}: file is ${what} bytes, over the ${MAX_WORKLOAD_BYTES}-byte limit`);
  if (size > MAX_WORKLOAD_BYTES) throw tooBig(String(size));
  const buf = Buffer.alloc(MAX_WORKLOAD_BYTES + 1);
  let got = 0;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    for (let n = -1; n !== 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, null);
  } catch (e) {
    throw cannotRead(shown, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (got > MAX_WORKLOAD_BYTES) throw tooBig(`more than ${MAX_WORKLOAD_BYTES}`);
  return buf.subarray(0, got);
}

/** Validate a workload file's bytes (UTF-8, an optional BOM); `shown` names it in errors. */
export function parseWorkloadBytes(bytes: Uint8Array, shown: string): Workload {
  return parseJsonBytes(bytes, shown, WORKLOAD_FILE);
}

/** Validate the bytes of a JSON file of `kind` (UTF-8, an optional BOM); `shown` names it in errors. */
export function parseJsonBytes<T>(bytes: Uint8Array, shown: string, kind: JsonFileKind<T>): T {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // drops a leading BOM
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const before = new TextDecoder('utf-8').decode(bytes.subarray(0, bad));
    const scan = scanJson(before);
    const path = !scan.ok && scan.offset === before.length ? scan.path : [];
    const byte = bad < bytes.length ? ` (byte 0x${bytes[bad].toString(16).toUpperCase().padStart(2, '0')} here)` : '';
    throw located(shown, before, before.length, path, `not UTF-8 text${byte}; save the file as UTF-8`);
  }
  return parseJsonText(text, shown, kind);
}

/** Validate workload JSON text; `shown` names it in errors. */
export function parseWorkload(text: string, shown: string): Workload {
  return parseJsonText(text, shown, WORKLOAD_FILE);
}

/** Validate the JSON text of a file of `kind`; `shown` names it in errors. */
export function parseJsonText<T>(text: string, shown: string, kind: JsonFileKind<T>): T {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark is not JSON, but harmless
  const scan = scanJson(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw syntaxError(text, shown, e, scan);
  }
  // The scanner and JSON.parse agree on what is JSON (the tests hold them to it);
  // should they not, the file is still checked by the schema, only placed at 1:1.
  const root = scan.ok ? scan.root : undefined;
  if (root !== undefined) checkKeys(text, shown, root);
  const r = kind.schema.safeParse(json);
  if (!r.success) throw schemaError(text, shown, root, json, r.error.issues[0], kind);
  return r.data;
}

function located(shown: string, text: string, offset: number, path: readonly PropertyKey[], message: string): WorkloadError {
  const { line, column } = positionAt(text, offset);
  const shownPath = formatPath(path);
  return new WorkloadError(`${shown}:${line}:${column} ${shownPath}: ${message}`, { file: shown, line, column, path: shownPath });
}

/** Offset of the first byte that does not start (or continue) a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  const cont = (k: number, lo = 0x80, hi = 0xbf) => k < b.length && b[k] >= lo && b[k] <= hi;
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let len: number;
    if (c < 0x80) len = 1;
    else if (c >= 0xc2 && c <= 0xdf) len = cont(i + 1) ? 2 : 0;
    else if (c === 0xe0) len = cont(i + 1, 0xa0) && cont(i + 2) ? 3 : 0;
    else if (c === 0xed) len = cont(i + 1, 0x80, 0x9f) && cont(i + 2) ? 3 : 0;
    else if (c >= 0xe1 && c <= 0xef) len = cont(i + 1) && cont(i + 2) ? 3 : 0;
    else if (c === 0xf0) len = cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c >= 0xf1 && c <= 0xf3) len = cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c === 0xf4) len = cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else len = 0;
    if (len === 0) return i;
    i += len;
  }
  return b.length;
}

/** Invalid JSON: the place JSON.parse names ("at position N"), in the scanner's words when it agrees. */
function syntaxError(text: string, shown: string, e: unknown, scan: ReturnType<typeof scanJson>): WorkloadError {
  const raw = e instanceof Error ? e.message : String(e);
  // only V8's own ending counts: a message that quotes the text may quote "at position" too
  const m = /in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(raw);
  const failed: ScanFailure | undefined = scan.ok ? undefined : scan;
  const offset = m !== null ? Math.min(Number(m[1]), text.length) : (failed?.offset ?? text.length);
  if (failed !== undefined && failed.offset === offset) return located(shown, text, offset, failed.path, failed.message);
  // V8's own words, without the position and without the quoted text (which may span lines)
  const words = raw.replace(/,\s*(\.\.\.)?".*$/s, '').replace(/\s*in JSON at position.*$/s, '');
  return located(shown, text, offset, [], `not valid JSON: ${lowerFirst(oneLine(words))}`);
}

/** Refuse prototype-reaching keys and keys given twice, the first in document order. */
function checkKeys(text: string, shown: string, root: JsonNode): void {
  if (root.kind !== 'object' && root.kind !== 'array') return;
  // a depth-first walk without recursion; the stack is the path (frame k's step is the child it is in)
  type Frame = { node: ObjectNode | ArrayNode; next: number; seen: Map<string, number> };
  const stack: Frame[] = [{ node: root, next: 0, seen: new Map() }];
  const pathHere = (): PathKey[] =>
    stack.slice(0, -1).map((f) => (f.node.kind === 'object' ? f.node.entries[f.next - 1].key : f.next - 1));
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    const children = f.node.kind === 'object' ? f.node.entries.length : f.node.items.length;
    if (f.next >= children) {
      stack.pop();
      continue;
    }
    const k = f.next++;
    let child: JsonNode;
    if (f.node.kind === 'object') {
      const { key, keyStart, value } = f.node.entries[k];
      if (FORBIDDEN_KEYS.has(key)) {
        throw located(shown, text, keyStart, pathHere(), `key ${quoteKey(key)} is not allowed (__proto__, constructor and prototype are refused)`);
      }
      const first = f.seen.get(key);
      if (first !== undefined) {
        const at = positionAt(text, first);
        throw located(shown, text, keyStart, pathHere(), `duplicate key ${quoteKey(key)} (first at ${at.line}:${at.column})`);
      }
      f.seen.set(key, keyStart);
      child = value;
    } else {
      child = f.node.items[k];
    }
    if (child.kind === 'object' || child.kind === 'array') stack.push({ node: child, next: 0, seen: new Map() });
  }
}

// ---------------------------------------------------------------------------
// Schema issues in words

const jsonSchemas = new WeakMap<JsonFileKind<unknown>, JsonSchemaNode>();

/** A schema issue at the place of the value (the key, for an unknown key; the enclosing object, for a missing one). */
function schemaError<T>(text: string, shown: string, root: JsonNode | undefined, json: unknown, issue: core.$ZodIssue, kind: JsonFileKind<T>): WorkloadError {
  const path = issue.path;
  const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const at = root === undefined ? { offset: 0, at: 'value' as const, node: undefined } : resolvePath(root, path, key);
  const missing = at.at === 'enclosing';
  const token = at.at === 'value' && at.node !== undefined ? text.slice(at.node.start, Math.min(at.node.end, at.node.start + 64)) : undefined;
  let jsonSchema = jsonSchemas.get(kind);
  if (jsonSchema === undefined) jsonSchemas.set(kind, (jsonSchema = kind.jsonSchema()));
  const node = schemaAt(jsonSchema, json, path);
  return located(shown, text, at.offset, path, issueText(issue, node, valueAt(json, path), token, missing));
}

function issueText(issue: core.$ZodIssue, node: JsonSchemaNode | undefined, value: unknown, token: string | undefined, missing: boolean): string {
  const expected = node === undefined ? undefined : describe(node);
  if (missing && issue.code === 'custom') return `missing: ${issue.message}`;
  if (missing && issue.code !== 'unrecognized_keys') return expected === undefined ? 'missing' : `missing (expected ${expected})`;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = node?.properties === undefined ? [] : Object.keys(node.properties);
      return `unknown key ${quoteKey(issue.keys[0])}${known.length > 0 ? ` (known keys: ${known.join(', ')})` : ''}`;
    }
    case 'invalid_union':
      if (issue.discriminator !== undefined && 'options' in issue && issue.options !== undefined) {
        return `expected ${issue.options.map((o) => JSON.stringify(o)).join(' or ')}, got ${got(value, token)}`;
      }
      return expected === undefined ? tidy(issue.message) : `expected ${expected}, got ${got(value, token)}`;
    case 'invalid_type':
    case 'invalid_value':
      return expected === undefined ? tidy(issue.message) : `expected ${expected}, got ${got(value, token)}`;
    case 'too_small':
    case 'too_big':
      if (expected === undefined) return tidy(issue.message);
      if (Array.isArray(value)) return `expected ${expected}, got ${plural(value.length, 'item')}`;
      if (typeof value === 'string') return `expected ${expected}, got ${plural([...value].length, 'character')}`;
      return `expected ${expected}`;
    case 'invalid_format':
      // a message written in schema.ts says it best; zod's default names the pattern
      if (!/^invalid\b/i.test(issue.message)) return tidy(issue.message);
      return 'pattern' in issue && issue.pattern !== undefined ? `expected a string matching ${issue.pattern}` : tidy(issue.message);
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`;
    default:
      return tidy(issue.message);
  }
}

function got(value: unknown, token: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return token !== undefined && /^[-+.0-9eE]{1,24}$/.test(token) ? token : String(value);
  if (typeof value === 'string') return /^[\x20-\x7e]{0,24}$/.test(value) ? `the string ${JSON.stringify(value)}` : 'a string';
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** What a JSON Schema node accepts, in words: "an integer from 1 to 4096", "a number > 0". */
function describe(node: JsonSchemaNode): string | undefined {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return node.enum.length === 1 ? JSON.stringify(node.enum[0]) : `one of ${node.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const branches = node.anyOf ?? node.oneOf;
  if (branches !== undefined) {
    const words = branches.map(describe);
    if (words.some((w) => w === undefined)) return undefined;
    return [...new Set(words)].join(' or ');
  }
  const type = Array.isArray(node.type) ? (node.type.length === 1 ? node.type[0] : undefined) : node.type;
  switch (type) {
    case 'integer':
    case 'number': {
      const safe = (v: number | undefined) => (v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined);
      const lo = safe(node.minimum);
      const hi = safe(node.maximum);
      const xlo = safe(node.exclusiveMinimum);
      const xhi = safe(node.exclusiveMaximum);
      const base = type === 'integer' ? 'an integer' : 'a number';
      if (lo !== undefined && hi !== undefined) return `${base} from ${lo} to ${hi}`;
      const parts = [
        lo !== undefined ? `>= ${lo}` : xlo !== undefined ? `> ${xlo}` : undefined,
        hi !== undefined ? `<= ${hi}` : xhi !== undefined ? `< ${xhi}` : undefined,
      ].filter((p) => p !== undefined);
      return parts.length === 0 ? base : `${base} ${parts.join(' and ')}`;
    }
    case 'string':
      return `a string${range(node.minLength, node.maxLength, 'character', true)}`;
    case 'array':
      return `an array${range(node.minItems, node.maxItems, 'item', false)}`;
    case 'object':
      return 'an object';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return undefined;
  }
}

/** " of 1 to 64 items", " of at most 4000 characters", "" (0 as a minimum says nothing, for strings). */
function range(min: number | undefined, max: number | undefined, unit: string, zeroIsNone: boolean): string {
  const lo = min === undefined || (zeroIsNone && min === 0) ? undefined : min;
  if (lo !== undefined && max !== undefined) return lo === max ? ` of ${plural(lo, unit)}` : ` of ${lo} to ${plural(max, unit)}`;
  if (lo !== undefined) return ` of at least ${plural(lo, unit)}`;
  if (max !== undefined) return ` of at most ${plural(max, unit)}`;
  return '';
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** The JSON Schema node for the value at `path`, following unions by the value's own fields. */
function schemaAt(root: JsonSchemaNode, json: unknown, path: readonly PropertyKey[]): JsonSchemaNode | undefined {
  let node: JsonSchemaNode | undefined = deref(root, root);
  let value: unknown = json;
  for (const step of path) {
    if (node === undefined) return undefined;
    node = child(root, node, value, step);
    value = ownValue(value, step);
  }
  return node === undefined ? undefined : deref(root, node);
}

function child(root: JsonSchemaNode, node: JsonSchemaNode, value: unknown, step: PropertyKey): JsonSchemaNode | undefined {
  const branches = node.anyOf ?? node.oneOf;
  if (branches !== undefined) {
    const options = branches.map((b) => deref(root, b)).filter((b) => b !== undefined);
    const inner = options.map((b) => child(root, b, value, step));
    const fit = options.findIndex((b, k) => inner[k] !== undefined && constsMatch(b, value));
    if (fit >= 0) return inner[fit];
    const found = [...new Set(inner.filter((n) => n !== undefined))];
    return found.length === 0 ? undefined : found.length === 1 ? found[0] : { anyOf: found };
  }
  if (typeof step === 'number') return node.items === undefined ? undefined : deref(root, node.items);
  const key = String(step);
  if (node.properties !== undefined && Object.hasOwn(node.properties, key)) return deref(root, node.properties[key]);
  return typeof node.additionalProperties === 'object' ? deref(root, node.additionalProperties) : undefined;
}

/** The branch's constant fields (a discriminator such as kind: "zipf") all equal the value's. */
function constsMatch(branch: JsonSchemaNode, value: unknown): boolean {
  if (branch.properties === undefined || value === null || typeof value !== 'object') return false;
  const consts = Object.entries(branch.properties).filter(([, p]) => p.const !== undefined);
  return consts.length > 0 && consts.every(([k, p]) => ownValue(value, k) === p.const);
}

function deref(root: JsonSchemaNode, node: JsonSchemaNode): JsonSchemaNode | undefined {
  for (let hops = 0; node.$ref !== undefined; hops++) {
    if (hops > 32 || !node.$ref.startsWith('#')) return undefined;
    let target: unknown = root;
    for (const part of node.$ref.slice(1).split('/').filter(Boolean)) {
      const k = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      target = ownValue(target, k);
    }
    if (target === null || typeof target !== 'object') return undefined;
    node = target as JsonSchemaNode;
  }
  return node;
}

function ownValue(value: unknown, step: PropertyKey): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const key = typeof step === 'number' ? step : String(step);
  return Object.hasOwn(value, key) ? (value as Record<string | number, unknown>)[key] : undefined;
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let v = json;
  for (const step of path) v = ownValue(v, step);
  return v;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function lowerFirst(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s[0].toLowerCase() + s.slice(1) : s;
}

/** A zod message on one line, lower-case first. */
function tidy(message: string): string {
  return lowerFirst(oneLine(message));
}
