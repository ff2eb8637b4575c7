/**
 * Where things are in a JSON text: a small hand-written scanner that checks the
 * JSON grammar (RFC 8259) and records the offset of every key and value, so an
 * error found by the schema (a path such as ['fileSet', 'classes', 1, 'weight'])
 * or by JSON.parse (an offset) can be shown as a 1-based line:column.
 *
 * Lines end at \n, \r\n or a lone \r; columns count characters (Unicode code
 * points, a tab is one) from 1. The scanner is iterative, so deep nesting cannot
 * overflow the stack, and it never throws: bad text gives a ScanFailure.
 */

/** One step of a path: an object key or an array index. */
export type PathKey = string | number;

interface NodeBase {
  /** Offset (UTF-16 index into the text) of the value's first character. */
  start: number;
  /** Offset just past the value's last character. */
  end: number;
}
export interface ObjectNode extends NodeBase {
  kind: 'object';
  entries: { key: string; keyStart: number; value: JsonNode }[];
}
export interface ArrayNode extends NodeBase {
  kind: 'array';
  items: JsonNode[];
}
export interface ScalarNode extends NodeBase {
  kind: 'string' | 'number' | 'true' | 'false' | 'null';
}
export type JsonNode = ObjectNode | ArrayNode | ScalarNode;

export interface ScanSuccess {
  ok: true;
  root: JsonNode;
}
export interface ScanFailure {
  ok: false;
  /** Where parsing failed: the offending character, or text.length at an early end. */
  offset: number;
  /** What is wrong, in a few words, on one line. */
  message: string;
  /** The path of the value being read when parsing failed. */
  path: PathKey[];
}

export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column, in characters. */
  column: number;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const HEX = /^[0-9a-fA-F]$/;

/** A character for an error message: 'x' if printable ASCII, else its code point (and itself if it is a letter). */
export function charLabel(text: string, offset: number): string {
  const cp = text.codePointAt(offset);
  if (cp === undefined) return 'the end of the file';
  const ch = String.fromCodePoint(cp);
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp >= 0x21 && cp <= 0x7e) return `'${ch}'`;
  if (/^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch)) return `'${ch}' (${hex})`;
  return hex;
}

/** Check `text` against the JSON grammar and record where every key and value starts. */
export function scanJson(text: string): ScanSuccess | ScanFailure {
  const n = text.length;
  let i = 0;
  let root: JsonNode | undefined;
  /** Open objects and arrays, outermost first; `key` is the key whose value is being read. */
  const stack: { node: ObjectNode | ArrayNode; key: string | null; keyStart: number }[] = [];
  /** 'value': a value is due; 'key': a key is due; 'after': a value just ended. */
  let state: 'value' | 'key' | 'after' = 'value';
  /** The last significant character was a comma (so '}' or ']' now is a trailing comma). */
  let afterComma = false;

  const fail = (offset: number, message: string): ScanFailure => {
    const path: PathKey[] = [];
    stack.forEach((f, depth) => {
      const innermost = depth === stack.length - 1;
      if (f.node.kind === 'object') {
        if (f.key !== null && (!innermost || state === 'value')) path.push(f.key);
      } else if (!innermost) {
        path.push(f.node.items.length - 1);
      } else if (state === 'value') {
        path.push(f.node.items.length);
      }
    });
    return { ok: false, offset, message, path };
  };
  const early = (): ScanFailure =>
    fail(n, root === undefined && stack.length === 0 ? 'the file is empty (expected a JSON object)' : 'the file ends too early (truncated?)');
  const attach = (node: JsonNode): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) root = node;
    else if (top.node.kind === 'object') top.node.entries.push({ key: top.key!, keyStart: top.keyStart, value: node });
    else top.node.items.push(node);
  };
  const skipWs = (): void => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  /** Read a string token at i (a '"'); returns its end offset or a failure. */
  const readString = (): number | ScanFailure => {
    let j = i + 1;
    for (;;) {
      if (j >= n) return fail(n, 'unterminated string (the file ends inside it)');
      const c = text.charCodeAt(j);
      if (c === 0x22) return j + 1;
      if (c < 0x20) {
        return fail(j, c === 0x0a || c === 0x0d ? 'line break inside a string (write it as \\n)' : `control character ${charLabel(text, j)} inside a string`);
      }
      if (c === 0x5c) {
        j++;
        if (j >= n) return fail(n, 'unterminated string (the file ends inside it)');
        const e = text[j];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (j + k >= n) return fail(n, 'unterminated string (the file ends inside it)');
            if (!HEX.test(text[j + k])) return fail(j + k, 'bad \\u escape: expected 4 hex digits');
          }
          j += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) {
          const c = text.charCodeAt(j);
          // a line break or any other unprintable character is named, never put in the one-line message
          return fail(j, c >= 0x21 && c <= 0x7e ? `bad escape '\\${e}' in a string` : `bad escape in a string: '\\' followed by ${charLabel(text, j)}`);
        }
        j++;
        continue;
      }
      j++;
    }
  };
  /** Read a number token at i; returns its end offset or a failure. */
  const readNumber = (): number | ScanFailure => {
    let j = i;
    const digits = (): number => {
      const s = j;
      while (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
      return j - s;
    };
    const need = (what: string): ScanFailure => (j >= n ? early() : fail(j, what));
    if (text[j] === '-') j++;
    if (text[j] === '0') {
      j++;
      if (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) return fail(j, 'a number cannot start with 0');
    } else if (digits() === 0) {
      return need(`expected a digit after '-', found ${charLabel(text, j)}`);
    }
    if (text[j] === '.') {
      j++;
      if (digits() === 0) return need(`expected a digit after the decimal point, found ${charLabel(text, j)}`);
    }
    if (text[j] === 'e' || text[j] === 'E') {
      j++;
      if (text[j] === '+' || text[j] === '-') j++;
      if (digits() === 0) return need(`expected a digit in the exponent, found ${charLabel(text, j)}`);
    }
    return j;
  };

  for (;;) {
    skipWs();
    if (state === 'value') {
      if (i >= n) return early();
      const c = text[i];
      const start = i;
      if (c === '{' || c === '[') {
        const node: ObjectNode | ArrayNode =
          c === '{' ? { kind: 'object', start, end: -1, entries: [] } : { kind: 'array', start, end: -1, items: [] };
        attach(node);
        stack.push({ node, key: null, keyStart: -1 });
        i++;
        afterComma = false;
        skipWs();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          node.end = i;
          stack.pop();
          state = 'after';
        } else {
          state = c === '{' ? 'key' : 'value';
        }
        continue;
      }
      let end: number | ScanFailure;
      let kind: ScalarNode['kind'];
      if (c === '"') {
        kind = 'string';
        end = readString();
      } else if (c === '-' || (c >= '0' && c <= '9')) {
        kind = 'number';
        end = readNumber();
      } else if (c === 't' || c === 'f' || c === 'n') {
        kind = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
        let k = 0;
        while (k < kind.length && i + k < n && text[i + k] === kind[k]) k++;
        end = k === kind.length ? i + k : i + k >= n ? early() : fail(i + k, `expected '${kind}', found ${charLabel(text, i + k)}`);
      } else {
        if (afterComma && c === ']') {
          state = 'after'; // the problem is the array's, not a next item's
          return fail(i, "trailing comma before ']'");
        }
        if (c === '/') return fail(i, 'comments are not allowed in JSON');
        if (c === "'") return fail(i, "expected a value, found ''' (JSON strings take double quotes)");
        return fail(i, `expected a value, found ${charLabel(text, i)}`);
      }
      if (typeof end !== 'number') return end;
      attach({ kind, start, end });
      i = end;
      state = 'after';
      afterComma = false;
    } else if (state === 'key') {
      const top = stack[stack.length - 1];
      if (i >= n) return early();
      if (text[i] !== '"') {
        if (afterComma && text[i] === '}') return fail(i, "trailing comma before '}'");
        if (text[i] === '/') return fail(i, 'comments are not allowed in JSON');
        const quote = text[i] === "'" ? ' (JSON strings take double quotes)' : '';
        return fail(i, `expected a double-quoted key, found ${charLabel(text, i)}${quote}`);
      }
      const keyStart = i;
      const end = readString();
      if (typeof end !== 'number') return end;
      i = end;
      skipWs();
      if (i >= n) return early();
      if (text[i] !== ':') return fail(i, `expected ':' after the key, found ${charLabel(text, i)}`);
      i++;
      top.key = JSON.parse(text.slice(keyStart, end)) as string;
      top.keyStart = keyStart;
      state = 'value';
      afterComma = false;
    } else {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (i < n) return fail(i, `unexpected ${charLabel(text, i)} after the end of the JSON value`);
        return { ok: true, root: root! };
      }
      if (i >= n) return early();
      const close = top.node.kind === 'object' ? '}' : ']';
      if (text[i] === ',') {
        i++;
        state = top.node.kind === 'object' ? 'key' : 'value';
        afterComma = true;
      } else if (text[i] === close) {
        i++;
        top.node.end = i;
        stack.pop();
        afterComma = false;
      } else {
        const what = top.node.kind === 'object' ? 'value' : 'item';
        const hint = text[i] === '"' || text[i] === '{' || text[i] === '[' ? ' (a comma missing?)' : '';
        return fail(i, `expected ',' or '${close}' after the ${what}, found ${charLabel(text, i)}${hint}`);
      }
    }
  }
}

/** The 1-based line and column of `offset` in `text`. */
export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let column = 1;
  const stop = Math.max(0, Math.min(offset, text.length));
  for (let i = 0; i < stop; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) {
      if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a && i + 1 < stop) i++;
      line++;
      column = 1;
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < stop) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      column++;
    }
  }
  return { line, column };
}

export interface Located extends Position {
  offset: number;
  /** What the offset points at: the value at the path, a key in it, or (for a missing key) the enclosing object. */
  at: 'value' | 'key' | 'enclosing';
  /** The node at the offset (the value, the object holding the key, or the enclosing object). */
  node: JsonNode;
}

/**
 * Follow `path` in a scanned tree. With `key`, point at that key of the object at
 * `path` (an unknown key). A step that does not exist (a missing key) points at
 * the enclosing object or array. For a key that occurs twice, the last one wins,
 * as with JSON.parse.
 */
export function resolvePath(root: JsonNode, path: readonly PropertyKey[], key?: string): { offset: number; at: Located['at']; node: JsonNode } {
  let node = root;
  for (const step of path) {
    let next: JsonNode | undefined;
    if (node.kind === 'object') {
      next = findEntry(node, String(step))?.value;
    } else if (node.kind === 'array') {
      const index = typeof step === 'number' ? step : /^(0|[1-9][0-9]*)$/.test(String(step)) ? Number(step) : -1;
      next = node.items[index];
    }
    if (next === undefined) return { offset: node.start, at: 'enclosing', node };
    node = next;
  }
  if (key !== undefined && node.kind === 'object') {
    const entry = findEntry(node, key);
    if (entry !== undefined) return { offset: entry.keyStart, at: 'key', node };
  }
  return { offset: node.start, at: 'value', node };
}

function findEntry(node: ObjectNode, key: string): ObjectNode['entries'][number] | undefined {
  for (let k = node.entries.length - 1; k >= 0; k--) if (node.entries[k].key === key) return node.entries[k];
  return undefined;
}

/**
 * The line:column, in `text`, of the value at `path` (a zod issue path), or of
 * `key` in the object there, or of the enclosing object when a key is missing.
 * Throws if `text` is not valid JSON (scan it first to report that).
 */
export function locate(text: string, path: readonly PropertyKey[], key?: string): Located {
  const scan = scanJson(text);
  if (!scan.ok) throw new Error(`not valid JSON at offset ${scan.offset}: ${scan.message}`);
  const r = resolvePath(scan.root, path, key);
  return { ...positionAt(text, r.offset), ...r };
}

/** `fileSet.classes[1].weight`; `(top level)` for the empty path; odd keys as `["a b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const step of path) {
    if (typeof step === 'number') s += `[${step}]`;
    else if (typeof step === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(step)) s += s === '' ? step : `.${step}`;
    else s += `[${jsonQuote(shorten(String(step)))}]`;
  }
  return s === '' ? '(top level)' : s;
}

/** A key for a message: 'name' if plain, else in double quotes escaped like JSON; shortened past 40 characters. */
export function quoteKey(key: string): string {
  if (/^[\x20-\x26\x28-\x7e]{1,40}$/.test(key)) return `'${key}'`;
  return jsonQuote(shorten(key));
}

function shorten(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function jsonQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
