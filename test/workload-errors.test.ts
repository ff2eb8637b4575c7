/**
 * Bad workload files get one line: `file:line:col path: message` (src/workload/
 * load.ts, locate.ts), and the JSON Schema for editors is generated from the zod
 * schema (src/workload/json-schema.ts, scripts/gen-schema.ts). Every expected
 * line and column here was counted by hand from the text next to it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workloadJsonSchema, workloadJsonSchemaText, type JsonSchemaNode } from '../src/workload/json-schema.js';
import { MAX_WORKLOAD_BYTES, WorkloadError, loadWorkload, parseWorkload, parseWorkloadBytes } from '../src/workload/load.js';
import { formatPath, locate, positionAt, scanJson, type JsonNode } from '../src/workload/locate.js';
import { WorkloadSchema } from '../src/workload/schema.js';
import { ROOT } from './support/cli.js';

const SPECWEB96_TEXT = readFileSync(join(ROOT, 'workloads', 'specweb96.json'), 'utf8');
const TOP_KEYS = '$schema, name, description, sources, seed, requests, clients, arrival, durationMs, fileSet, popularity, services';
const PROTO_NOTE = '(__proto__, constructor and prototype are refused)';

/** A valid workload, one line per entry; line n of the file is BASE[n - 1]. */
const BASE = [
  '{',
  '  "name": "tiny",',
  '  "seed": 7,',
  '  "requests": 100,',
  '  "clients": 4,',
  '  "fileSet": {',
  '    "directories": 2,',
  '    "classes": [',
  '      { "name": "small", "weight": 3, "sizes": [10, 20, 30] },',
  '      { "name": "big", "weight": 1, "sizes": [5000, 6000] }',
  '    ]',
  '  },',
  '  "popularity": { "kind": "zipf", "exponent": 1 }',
  '}',
];

/** BASE with line `n` (1-based) changed: `from` must occur in it. */
function edit(n: number, from: string, to: string, lines: string[] = BASE): string[] {
  const copy = [...lines];
  expect(copy[n - 1], `line ${n}`).toContain(from);
  copy[n - 1] = copy[n - 1].replace(from, to);
  return copy;
}
/** BASE with `line` inserted as line `n`. */
function insert(n: number, line: string): string[] {
  return [...BASE.slice(0, n - 1), line, ...BASE.slice(n - 1)];
}

/** The one-line message of the WorkloadError that parsing `text` throws. */
function errorOf(text: string | string[], shown = 'bad.json'): string {
  const t = Array.isArray(text) ? text.join('\n') : text;
  try {
    parseWorkload(t, shown);
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadError);
    const message = (e as Error).message;
    expect(message).not.toMatch(/[\r\n]/);
    return message;
  }
  throw new Error('expected a WorkloadError, but the workload was accepted');
}

describe('the base text is a valid workload (so every case below fails for its own reason)', () => {
  it('parses', () => {
    const w = parseWorkload(BASE.join('\n'), 'base.json');
    expect(w.fileSet!.classes.map((c) => c.name)).toEqual(['small', 'big']);
  });
});

describe('schema problems: file:line:col path: message', () => {
  const cases: [string, string[], string][] = [
    ['an unknown top-level key (at the key)', insert(4, '  "colour": "red",'), `bad.json:4:3 (top level): unknown key 'colour' (known keys: ${TOP_KEYS})`],
    [
      'an unknown key in a class',
      edit(10, '"weight": 1,', '"weight": 1, "colour": "red",'),
      `bad.json:10:37 fileSet.classes[1]: unknown key 'colour' (known keys: name, weight, sizes)`,
    ],
    [
      'an unknown key in popularity',
      edit(13, '"kind": "zipf",', '"kind": "zipf", "skew": 2,'),
      `bad.json:13:35 popularity: unknown key 'skew' (known keys: kind, exponent)`,
    ],
    ['requests as a string', edit(4, '100', '"100"'), 'bad.json:4:15 requests: expected an integer from 1 to 10000000, got the string "100"'],
    [
      'a size as a string',
      edit(9, '20,', '"20",'),
      'bad.json:9:53 fileSet.classes[0].sizes[1]: expected an integer from 0 to 67108864, got the string "20"',
    ],
    ['a seed as a boolean', edit(3, '7', 'true'), 'bad.json:3:11 seed: expected an integer or a string of 1 to 64 characters, got true'],
    ['classes as an object', [...BASE.slice(0, 7), '    "classes": { "a": 1 }', ...BASE.slice(11)], 'bad.json:8:16 fileSet.classes: expected an array of 1 to 16 items, got an object'],
    ['zero clients', edit(5, '4', '0'), 'bad.json:5:14 clients: expected an integer from 1 to 4096'],
    ['4097 clients', edit(5, '4', '4097'), 'bad.json:5:14 clients: expected an integer from 1 to 4096'],
    ['a Zipf exponent over 4', edit(13, '"exponent": 1', '"exponent": 4.5'), 'bad.json:13:47 popularity.exponent: expected a number from 0 to 4'],
    ['another popularity kind', edit(13, '"zipf"', '"uniform"'), 'bad.json:13:27 popularity.kind: expected "zipf", got the string "uniform"'],
    ['a negative weight', edit(9, '"weight": 3', '"weight": -1'), 'bad.json:9:36 fileSet.classes[0].weight: expected a number > 0'],
    ['a zero weight', edit(10, '"weight": 1', '"weight": 0'), 'bad.json:10:34 fileSet.classes[1].weight: expected a number > 0'],
    ['non-integer requests', edit(4, '100', '2.5'), 'bad.json:4:15 requests: expected an integer from 1 to 10000000, got 2.5'],
    ['requests beyond a double', edit(4, '100', '1e400'), 'bad.json:4:15 requests: expected an integer from 1 to 10000000, got 1e400'],
    ['no sizes', edit(10, '[5000, 6000]', '[]'), 'bad.json:10:46 fileSet.classes[1].sizes: expected an array of 1 to 64 items, got 0 items'],
    ['a name with a space', edit(2, 'tiny', 'my workload'), 'bad.json:2:11 name: expected 1-64 letters, digits, _ . or -'],
    [
      'a missing seed (at the enclosing object)',
      [...BASE.slice(0, 2), ...BASE.slice(3)],
      'bad.json:1:1 seed: missing (expected an integer or a string of 1 to 64 characters)',
    ],
    ['a missing weight (at the enclosing object)', edit(10, '"weight": 1, ', ''), 'bad.json:10:7 fileSet.classes[1].weight: missing (expected a number > 0)'],
    [
      'an error after a string with escapes, a tab-free line with non-ASCII and a character outside the BMP',
      edit(5, '"clients": 4,', String.raw`"description": "say \"hi\" \\ \u00e9 ü 𝄞", "clients": 0,`),
      'bad.json:5:57 clients: expected an integer from 1 to 4096',
    ],
    ['a tab counts as one column', edit(5, '  "clients": 4', '\t"clients": 0'), 'bad.json:5:13 clients: expected an integer from 1 to 4096'],
    ['a key given twice', edit(3, '"seed": 7,', '"seed": 7, "seed": 8,'), "bad.json:3:14 (top level): duplicate key 'seed' (first at 3:3)"],
  ];
  for (const [what, lines, want] of cases) {
    it(`${what}: ${want}`, () => {
      expect(errorOf(lines)).toBe(want);
    });
  }

  it('CRLF and lone CR line ends count as one line each', () => {
    const bad = edit(5, '4', '0');
    expect(errorOf(bad.join('\r\n'))).toBe('bad.json:5:14 clients: expected an integer from 1 to 4096');
    expect(errorOf(bad.join('\r'))).toBe('bad.json:5:14 clients: expected an integer from 1 to 4096');
  });

  it('a byte order mark is skipped, and columns on line 1 do not count it', () => {
    expect(parseWorkload(`\uFEFF${BASE.join('\n')}`, 'bom.json').name).toBe('tiny');
    expect(errorOf(`\uFEFF{"name": "x y"}`)).toBe('bad.json:1:10 name: expected 1-64 letters, digits, _ . or -');
  });

  it('an odd unknown key stays on one line, escaped', () => {
    expect(errorOf(insert(2, String.raw`  "a\nb": 1,`))).toBe(`bad.json:2:3 (top level): unknown key "a\\nb" (known keys: ${TOP_KEYS})`);
  });
});

describe('__proto__, constructor and prototype keys are refused anywhere, by name and place', () => {
  it('__proto__ at the top level, before the schema sees it', () => {
    expect(errorOf(insert(3, '  "__proto__": { "polluted": true },'))).toBe(`bad.json:3:3 (top level): key '__proto__' is not allowed ${PROTO_NOTE}`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('__proto__ nested, and spelled with an escape', () => {
    expect(errorOf(edit(13, '"kind": "zipf",', '"kind": "zipf", "__proto__": {},'))).toBe(`bad.json:13:35 popularity: key '__proto__' is not allowed ${PROTO_NOTE}`);
    expect(errorOf(edit(13, '"kind": "zipf",', String.raw`"kind": "zipf", "\u005f_proto__": {},`))).toBe(
      `bad.json:13:35 popularity: key '__proto__' is not allowed ${PROTO_NOTE}`,
    );
  });
  it('constructor in a class, prototype in fileSet', () => {
    expect(errorOf(edit(10, '"weight": 1,', '"weight": 1, "constructor": 1,'))).toBe(`bad.json:10:37 fileSet.classes[1]: key 'constructor' is not allowed ${PROTO_NOTE}`);
    expect(errorOf(insert(8, '    "prototype": {},'))).toBe(`bad.json:8:5 fileSet: key 'prototype' is not allowed ${PROTO_NOTE}`);
  });
  it('the first refused key in document order wins, even before a schema problem', () => {
    const lines = edit(9, '"weight": 3,', '"weight": -3, "sizes2": { "constructor": 0 },');
    expect(errorOf(lines)).toBe(`bad.json:9:52 fileSet.classes[0].sizes2: key 'constructor' is not allowed ${PROTO_NOTE}`);
  });
});

describe('invalid JSON: the place where parsing failed', () => {
  const cases: [string, string, string][] = [
    ['truncated after a line', BASE.slice(0, 9).join('\n') + '\n', 'bad.json:10:1 fileSet.classes[1]: the file ends too early (truncated?)'],
    ['truncated inside a string', BASE.slice(0, 9).join('\n').slice(0, -'ll", "weight": 3, "sizes": [10, 20, 30] },'.length), 'bad.json:9:21 fileSet.classes[0].name: unterminated string (the file ends inside it)'],
    ['a trailing comma in an array (JSON.parse gives no position)', edit(10, '] }', '] },').join('\n'), "bad.json:11:5 fileSet.classes: trailing comma before ']'"],
    ['a trailing comma in an object (JSON.parse gives its position)', edit(13, '"exponent": 1 }', '"exponent": 1, }').join('\n'), "bad.json:13:50 popularity: trailing comma before '}'"],
    ['a missing comma', edit(3, '7,', '7').join('\n'), `bad.json:4:3 (top level): expected ',' or '}' after the value, found '"' (a comma missing?)`],
    ['a comment', insert(2, '  // the name').join('\n'), 'bad.json:2:3 (top level): comments are not allowed in JSON'],
    ['single quotes', edit(2, '"tiny"', "'tiny'").join('\n'), "bad.json:2:11 name: expected a value, found ''' (JSON strings take double quotes)"],
    ['NaN', edit(4, '100', 'NaN').join('\n'), "bad.json:4:15 requests: expected a value, found 'N'"],
    ['a leading zero', edit(4, '100', '0100').join('\n'), 'bad.json:4:16 requests: a number cannot start with 0'],
    ['a line break in a string', edit(2, 'tiny', 'ti\nny').join('\n'), 'bad.json:2:14 name: line break inside a string (write it as \\n)'],
    ['a bad escape', edit(2, 'tiny', String.raw`ti\ny\q`).join('\n'), String.raw`bad.json:2:18 name: bad escape '\q' in a string`],
    // found by the random damage below: the escaped character is named, so the message stays one line
    ['a backslash before a line break', edit(2, 'tiny', 'ti\\\rny').join('\n'), "bad.json:2:15 name: bad escape in a string: '\\' followed by U+000D"],
    ['a backslash before a tab', edit(2, 'tiny', 'ti\\\tny').join('\n'), "bad.json:2:15 name: bad escape in a string: '\\' followed by U+0009"],
    ['text after the end', `${BASE.join('\n')}\n}`, "bad.json:15:1 (top level): unexpected '}' after the end of the JSON value"],
    ['an empty file', '', 'bad.json:1:1 (top level): the file is empty (expected a JSON object)'],
    ['a file of blank lines', '\n\n', 'bad.json:3:1 (top level): the file is empty (expected a JSON object)'],
  ];
  for (const [what, text, want] of cases) {
    it(`${what}: ${want}`, () => {
      expect(errorOf(text)).toBe(want);
    });
  }
});

describe('files: bytes, size, existence', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'microlith-wlerr-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, content: string | Buffer): string => {
    const f = join(dir, name);
    writeFileSync(f, content);
    return f;
  };
  const loadError = (file: string): string => {
    try {
      loadWorkload(file);
    } catch (e) {
      expect(e).toBeInstanceOf(WorkloadError);
      return (e as Error).message;
    }
    throw new Error('expected a WorkloadError');
  };
  /** BASE as bytes with `bytes` put in place of `marker` (which must occur). */
  const withBytes = (marker: string, bytes: number[], lines = BASE): Buffer => {
    const text = lines.join('\n');
    const at = text.indexOf(marker);
    expect(at).toBeGreaterThanOrEqual(0);
    return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at + marker.length))]);
  };

  it('a good file loads by path', () => {
    expect(loadWorkload(write('good.json', BASE.join('\n'))).name).toBe('tiny');
  });

  it('invalid UTF-8: the place of the first bad byte, counting characters before it', () => {
    const f = write('ff.json', withBytes('ny', [0xff]));
    expect(loadError(f)).toBe(`${f}:2:14 name: not UTF-8 text (byte 0xFF here); save the file as UTF-8`);
    // two two-byte characters before the bad byte are two columns
    const g = write('latin1.json', withBytes('tiny', [0xc3, 0xa9, 0xc3, 0xa9, 0xe9]));
    expect(loadError(g)).toBe(`${g}:2:14 name: not UTF-8 text (byte 0xE9 here); save the file as UTF-8`);
  });

  it('invalid UTF-8: overlong forms, surrogates and a sequence cut at the end of the file', () => {
    expect(() => parseWorkloadBytes(withBytes('tiny', [0xc0, 0xaf]), 'o.json')).toThrow('o.json:2:12 name: not UTF-8 text (byte 0xC0 here)');
    expect(() => parseWorkloadBytes(withBytes('tiny', [0xed, 0xa0, 0x80]), 's.json')).toThrow('s.json:2:12 name: not UTF-8 text (byte 0xED here)');
    const cut = Buffer.concat([Buffer.from(BASE.join('\n')), Buffer.from([0xe2, 0x82])]);
    expect(() => parseWorkloadBytes(cut, 'c.json')).toThrow('c.json:14:2 (top level): not UTF-8 text (byte 0xE2 here)');
    // and valid multi-byte text is fine, with a UTF-8 byte order mark
    const ok = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(edit(2, '"tiny",', '"tiny", "description": "é ü 𝄞",').join('\n'))]);
    expect(parseWorkloadBytes(ok, 'ok.json').description).toBe('é ü 𝄞');
  });

  it('random bytes in a string: refused as not UTF-8 exactly when a strict UTF-8 decoder refuses them (fast-check)', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 6 }), (bytes) => {
        const clean = Array.from(bytes, (b) => (b === 0x22 || b === 0x5c || b < 0x20 ? 0x61 : b)); // no quote, backslash or control
        let decodes = true;
        try {
          strict.decode(Uint8Array.from(clean));
        } catch {
          decodes = false;
        }
        let message = '';
        try {
          parseWorkloadBytes(withBytes('tiny', clean), 'r.json');
        } catch (e) {
          message = (e as Error).message;
        }
        if (decodes) expect(message).not.toContain('not UTF-8');
        else expect(message).toMatch(/^r\.json:2:(1[2-7]) name: not UTF-8 text \(byte 0x[0-9A-F]{2} here\)/);
      }),
      { numRuns: 2000 },
    );
  });

  it(`a file over ${MAX_WORKLOAD_BYTES} bytes is refused without parsing; one of exactly that size loads`, () => {
    const text = BASE.join('\n');
    const atLimit = write('limit.json', text + ' '.repeat(MAX_WORKLOAD_BYTES - Buffer.byteLength(text)));
    expect(loadWorkload(atLimit).name).toBe('tiny');
    const over = write('over.json', text + ' '.repeat(MAX_WORKLOAD_BYTES + 1 - Buffer.byteLength(text)));
    expect(loadError(over)).toBe(`${over}: file is ${MAX_WORKLOAD_BYTES + 1} bytes, over the ${MAX_WORKLOAD_BYTES}-byte limit`);
  });

  it('a missing file, a directory, and a directory whose name ends in .json', () => {
    const missing = join(dir, 'missing.json');
    expect(loadError(missing)).toBe(`${missing}: cannot read: no such file (ENOENT)`);
    expect(loadError(dir)).toBe(`${dir}: is a directory, not a workload file`);
    const jsonDir = join(dir, 'dir.json');
    mkdirSync(jsonDir);
    expect(loadError(jsonDir)).toBe(`${jsonDir}: is a directory, not a workload file`);
    const under = join(dir, 'good.json', 'x.json');
    write('good.json', BASE.join('\n'));
    expect(loadError(under)).toBe(`${under}: cannot read: a part of the path is not a directory (ENOTDIR)`);
  });

  it('a WorkloadError carries the place as fields too', () => {
    try {
      parseWorkload(edit(5, '4', '0').join('\n'), 'p.json');
      expect.unreachable();
    } catch (e) {
      expect((e as WorkloadError).place).toEqual({ file: 'p.json', line: 5, column: 14, path: 'clients' });
    }
  });
});

describe('locate: the line:column of a path', () => {
  const text = BASE.join('\n');
  it('a value inside arrays and objects', () => {
    expect(locate(text, ['fileSet', 'classes', 1, 'sizes', 1])).toMatchObject({ line: 10, column: 53, at: 'value' });
    expect(locate(text, ['popularity', 'kind'])).toMatchObject({ line: 13, column: 27, at: 'value' });
    expect(locate(text, [])).toMatchObject({ line: 1, column: 1, at: 'value' });
  });
  it('a key (for an unknown key), and the enclosing object (for a missing key)', () => {
    expect(locate(text, ['popularity'], 'exponent')).toMatchObject({ line: 13, column: 35, at: 'key' });
    expect(locate(text, ['fileSet', 'depth'])).toMatchObject({ line: 6, column: 14, at: 'enclosing' });
    expect(locate(text, ['fileSet', 'classes', 5])).toMatchObject({ line: 8, column: 16, at: 'enclosing' });
  });
  it('the last of a key given twice, as JSON.parse keeps it', () => {
    expect(locate('{"a": 1,\n "a": 2}', ['a'])).toMatchObject({ line: 2, column: 7 });
  });
  it('throws on text that is not JSON', () => {
    expect(() => locate('{"a": }', ['a'])).toThrow(/not valid JSON at offset 6/);
  });
  it('positionAt counts \\r\\n, \\r and \\n as one line end and a surrogate pair as one column', () => {
    expect(positionAt('a\r\nb\rc\nd', 7)).toEqual({ line: 4, column: 1 });
    expect(positionAt('𝄞𝄞x', 4)).toEqual({ line: 1, column: 3 });
    expect(positionAt('ab', 99)).toEqual({ line: 1, column: 3 });
  });
  it('formatPath', () => {
    expect(formatPath(['fileSet', 'classes', 1, 'weight'])).toBe('fileSet.classes[1].weight');
    expect(formatPath([])).toBe('(top level)');
    expect(formatPath(['a b', 0, '$schema'])).toBe('["a b"][0].$schema');
  });
  it('scans deep nesting without recursion', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(scanJson(deep).ok).toBe(true);
    expect(errorOf(deep)).toBe('bad.json:1:1 (top level): expected an object, got an array');
    const deepKeys = insert(2, `  "x": ${'{"a": '.repeat(100_000)}1${'}'.repeat(100_000)},`);
    expect(errorOf(deepKeys)).toMatch(/^bad\.json:2:3 \(top level\): unknown key 'x'/);
  });
});

// ---------------------------------------------------------------------------
// Random damage to the shipped specweb96 text

/** Every scalar value's [start, end) in the text. */
function scalarSpans(text: string): [number, number][] {
  const scan = scanJson(text);
  if (!scan.ok) throw new Error('specweb96.json does not scan');
  const spans: [number, number][] = [];
  const stack: JsonNode[] = [scan.root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.kind === 'object') stack.push(...n.entries.map((e) => e.value));
    else if (n.kind === 'array') stack.push(...n.items);
    else spans.push([n.start, n.end]);
  }
  return spans.sort((a, b) => a[0] - b[0]);
}
const SPANS = scalarSpans(SPECWEB96_TEXT);

const interestingChar = fc.oneof(
  fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '\r', '\t', '-', '.', 'e', '0', '1', '9', 't', 'n', '/', "'", '\u00e9', '\uFEFF', '\u2028', '\u0000'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const mutation = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat({ max: SPECWEB96_TEXT.length - 1 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat({ max: SPECWEB96_TEXT.length }), ch: interestingChar }),
  fc.record({ op: fc.constant('replace' as const), span: fc.nat({ max: SPANS.length - 1 }), value: fc.jsonValue({ maxDepth: 2 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(text: string, m: Mutation): string {
  if (m.op === 'delete') return text.slice(0, m.at) + text.slice(m.at + 1);
  if (m.op === 'insert') return text.slice(0, m.at) + m.ch + text.slice(m.at);
  const [s, e] = SPANS[m.span];
  return text.slice(0, s) + JSON.stringify(m.value) + text.slice(e);
}

/** The damaged text either loads or throws one WorkloadError line whose line:col is inside the text. */
function checkDamaged(text: string): void {
  let error: unknown;
  try {
    parseWorkload(text, 'workloads/specweb96.json');
    return;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(WorkloadError);
  const message = (error as Error).message;
  expect(message).not.toMatch(/[\r\n\u2028\u2029]/);
  const m = /^workloads\/specweb96\.json:(\d+):(\d+) \S/.exec(message);
  expect(m, message).not.toBeNull();
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r\n|\r|\n/);
  const line = Number(m![1]);
  const col = Number(m![2]);
  expect(line, message).toBeGreaterThanOrEqual(1);
  expect(line, message).toBeLessThanOrEqual(lines.length);
  expect(col, message).toBeGreaterThanOrEqual(1);
  expect(col, message).toBeLessThanOrEqual([...lines[line - 1]].length + 1);
}

/** The scanner agrees with JSON.parse on what is JSON, and on where it breaks when V8 says. */
function checkScannerAgrees(text: string): void {
  const scan = scanJson(text);
  let v8: string | undefined;
  try {
    JSON.parse(text);
  } catch (e) {
    v8 = (e as Error).message;
  }
  expect(scan.ok, `${JSON.stringify(text.slice(0, 80))}: V8 says ${v8 ?? 'ok'}`).toBe(v8 === undefined);
  const m = v8 === undefined ? null : /in JSON at position (\d+)/.exec(v8);
  if (m !== null && !scan.ok) expect(scan.offset, v8).toBe(Number(m[1]));
}

describe('random damage to specweb96.json (fast-check)', () => {
  it('one mutation: loads, or one WorkloadError line with a line:col inside the text', () => {
    fc.assert(
      fc.property(mutation, (m) => {
        const text = apply(SPECWEB96_TEXT, m);
        checkDamaged(text);
        checkScannerAgrees(text);
      }),
      { numRuns: 1500 },
    );
  });

  it('several mutations at once', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 2, maxLength: 6 }), (ms) => {
        // replacements name spans of the pristine text: apply them first, last span first, each once
        const spans = [...new Set(ms.flatMap((m) => (m.op === 'replace' ? [m.span] : [])))].sort((a, b) => b - a);
        let text = spans.reduce((t, span) => apply(t, ms.find((m) => m.op === 'replace' && m.span === span)!), SPECWEB96_TEXT);
        for (const m of ms) {
          if (m.op === 'delete') text = apply(text, { ...m, at: m.at % Math.max(1, text.length) });
          if (m.op === 'insert') text = apply(text, { ...m, at: m.at % (text.length + 1) });
        }
        checkDamaged(text);
        checkScannerAgrees(text);
      }),
      { numRuns: 500 },
    );
  });

  it('every prefix of specweb96.json (a truncated file) is an error at its end', () => {
    for (let cut = 0; cut < SPECWEB96_TEXT.trimEnd().length; cut += 7) {
      const text = SPECWEB96_TEXT.slice(0, cut);
      const end = positionAt(text, text.length);
      expect(errorOf(text, 'w.json')).toMatch(new RegExp(`^w\\.json:${end.line}:${end.column} `));
      checkScannerAgrees(text);
    }
  });
});

// ---------------------------------------------------------------------------
// The JSON Schema for editors

/** Problems of `value` against the subset of JSON Schema that workload.schema.json uses. */
function schemaProblems(node: JsonSchemaNode, value: unknown, path = '$'): string[] {
  const branches = node.anyOf ?? node.oneOf;
  if (branches !== undefined) {
    const fits = branches.filter((b) => schemaProblems(b, value, path).length === 0).length;
    return (node.oneOf ? fits === 1 : fits >= 1) ? [] : [`${path}: no branch fits`];
  }
  const out: string[] = [];
  const type = node.type;
  const isType = (t: string): boolean =>
    t === 'integer' ? Number.isInteger(value) :
    t === 'number' ? typeof value === 'number' :
    t === 'object' ? value !== null && typeof value === 'object' && !Array.isArray(value) :
    t === 'array' ? Array.isArray(value) :
    t === 'null' ? value === null :
    typeof value === t;
  if (type !== undefined && !(Array.isArray(type) ? type : [type]).some(isType)) return [`${path}: not ${String(type)}`];
  if (node.const !== undefined && value !== node.const) out.push(`${path}: not ${JSON.stringify(node.const)}`);
  if (typeof value === 'number') {
    if (node.minimum !== undefined && value < node.minimum) out.push(`${path}: < minimum`);
    if (node.maximum !== undefined && value > node.maximum) out.push(`${path}: > maximum`);
    if (node.exclusiveMinimum !== undefined && value <= node.exclusiveMinimum) out.push(`${path}: <= exclusiveMinimum`);
    if (node.exclusiveMaximum !== undefined && value >= node.exclusiveMaximum) out.push(`${path}: >= exclusiveMaximum`);
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (node.minLength !== undefined && len < node.minLength) out.push(`${path}: shorter than minLength`);
    if (node.maxLength !== undefined && len > node.maxLength) out.push(`${path}: longer than maxLength`);
    if (node.pattern !== undefined && !new RegExp(node.pattern, 'u').test(value)) out.push(`${path}: does not match pattern`);
  }
  if (Array.isArray(value)) {
    if (node.minItems !== undefined && value.length < node.minItems) out.push(`${path}: fewer than minItems`);
    if (node.maxItems !== undefined && value.length > node.maxItems) out.push(`${path}: more than maxItems`);
    if (node.items !== undefined) value.forEach((v, k) => out.push(...schemaProblems(node.items!, v, `${path}[${k}]`)));
  } else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k of node.required ?? []) if (!Object.hasOwn(obj, k)) out.push(`${path}: missing ${k}`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = node.properties !== undefined && Object.hasOwn(node.properties, k) ? node.properties[k] : undefined;
      if (sub !== undefined) out.push(...schemaProblems(sub, v, `${path}.${k}`));
      else if (node.additionalProperties === false) out.push(`${path}: extra key ${k}`);
    }
  }
  return out;
}

describe('schema/workload.schema.json', () => {
  const file = join(ROOT, 'schema', 'workload.schema.json');
  const committed = readFileSync(file, 'utf8');
  const schema = JSON.parse(committed) as JsonSchemaNode;

  it('is exactly what the generator writes from the zod schema now (run npm run schema after changing schema.ts)', () => {
    expect(committed).toBe(workloadJsonSchemaText());
  });

  it('npm run schema -- --check agrees', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-schema.ts', '--check'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
  });

  it('is a draft-07 object schema of what a user writes: description (defaulted) is optional, unknown keys refused', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties!)).toEqual(Object.keys(WorkloadSchema.shape));
    expect(schema.required).toEqual(['name', 'seed', 'requests', 'clients']);
    expect(schema.properties!.fileSet.properties!.classes.items!.properties!.weight).toEqual({ type: 'number', exclusiveMinimum: 0 });
  });

  const shipped = [
    ...readdirSync(join(ROOT, 'workloads')).filter((f) => f.endsWith('.json')).map((f) => join('workloads', f)),
    ...readdirSync(join(ROOT, 'bench', 'workloads')).filter((f) => f.endsWith('.json')).map((f) => join('bench', 'workloads', f)),
  ];
  it('names are found', () => {
    expect(shipped).toContain(join('workloads', 'specweb96.json'));
  });
  for (const rel of shipped) {
    it(`${rel}: has every required key, no key beyond the schema's, and fits it throughout`, () => {
      const value = JSON.parse(readFileSync(join(ROOT, rel), 'utf8')) as Record<string, unknown>;
      for (const k of schema.required!) expect(value, k).toHaveProperty(k);
      for (const k of Object.keys(value)) expect(Object.keys(schema.properties!), k).toContain(k);
      expect(schemaProblems(schema, value)).toEqual([]);
      if (rel.startsWith('workloads')) expect(value.$schema).toBe('../schema/workload.schema.json');
    });
  }

  it('the checker used above does refuse what the schema refuses', () => {
    const base = JSON.parse(BASE.join('\n')) as Record<string, any>;
    expect(schemaProblems(schema, base)).toEqual([]);
    expect(schemaProblems(schema, { ...base, colour: 1 })).toEqual(['$: extra key colour']);
    const { seed: _seed, ...noSeed } = base;
    expect(schemaProblems(schema, noSeed)).toEqual(['$: missing seed']);
    expect(schemaProblems(schema, { ...base, clients: 0 })).toEqual(['$.clients: < minimum']);
    expect(schemaProblems(schema, { ...base, popularity: { kind: 'zipf', exponent: 1, skew: 1 } })).toEqual(['$.popularity: extra key skew']);
  });

  it('whatever zod accepts, the JSON Schema accepts (an editor never flags a good file); for random values in specweb96', () => {
    fc.assert(
      fc.property(fc.nat({ max: SPANS.length - 1 }), fc.jsonValue({ maxDepth: 2 }), (span, v) => {
        const text = apply(SPECWEB96_TEXT, { op: 'replace', span, value: v });
        const value = JSON.parse(text) as unknown;
        const zodOk = WorkloadSchema.safeParse(value).success;
        const problems = schemaProblems(schema, value);
        if (zodOk) expect(problems).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('matches workloadJsonSchema() as an object', () => {
    expect(schema).toEqual(workloadJsonSchema());
  });
});
