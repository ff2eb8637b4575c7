/**
 * The app's HTTP pieces as pure functions: `targetPath` (which file a request
 * target names, or null: refused before any lookup), `contentType` (by the
 * file's extension) and `httpHead` (the response head, byte for byte).
 */
import { describe, expect, it } from 'vitest';
import { contentType, httpHead, INDEX_PATH, targetPath } from '../src/servers/app.js';

describe('targetPath: hostile targets are refused (null)', () => {
  const refused: [string, string][] = [
    ['/../etc/passwd', 'a .. segment'],
    ['/dir/../x', 'a .. segment in the middle'],
    ['/a/..', 'a trailing .. segment'],
    ['/a/./b', 'a . segment'],
    ['/a/.', 'a trailing . segment'],
    ['/%2e%2e/x', 'an escaped .. segment'],
    ['/%2E%2E%2Fx', 'an escaped .. and an escaped /, upper case'],
    ['/%2e/x', 'an escaped . segment'],
    ['/a%2fb', 'an escaped /'],
    ['/a%2Fb', 'an escaped /, upper case'],
    ['/a%5cb', 'an escaped backslash'],
    ['/a%00b', 'an escaped NUL'],
    ['/a\\b', 'a backslash'],
    ['//etc/passwd', 'an empty first segment'],
    ['/a//b', 'an empty middle segment'],
    ['http://host/x', 'absolute-form'],
    ['*', 'asterisk-form'],
    ['', 'empty'],
    ['a/b', 'relative'],
    ['/%c0%ae%c0%ae/x', 'overlong UTF-8 for ..'],
    ['/%e0%80%ae', 'overlong three-byte UTF-8 for .'],
    ['/%ff', 'a byte that is never UTF-8'],
    ['/%c3', 'a truncated UTF-8 sequence'],
    ['/%ed%a0%80', 'a UTF-16 surrogate in UTF-8'],
    ['/%zz', 'a bad escape'],
    ['/a%2', 'a truncated escape'],
    ['/a%', 'a bare %'],
    ['/a#b', 'a fragment'],
    ['/a%0ab', 'an escaped line feed'],
    ['/a%0d%0aSet-Cookie:x', 'an escaped CRLF (header injection)'],
    ['/a\tb', 'a raw tab'],
    ['/a%7f', 'an escaped DEL'],
    ['/a%c2%85', 'an escaped C1 control (NEL)'],
  ];
  for (const [target, why] of refused) {
    it(`${JSON.stringify(target)}: ${why}`, () => {
      expect(targetPath(target)).toBeNull();
    });
  }
});

describe('targetPath: what a target names', () => {
  it('a query is stripped', () => {
    expect(targetPath('/a?x=1')).toBe('/a');
    expect(targetPath('/dir000/class1_3?x=1&y=/../z')).toBe('/dir000/class1_3');
  });

  it('/ is the index, with or without a query', () => {
    expect(INDEX_PATH).toBe('/index.html');
    expect(targetPath('/')).toBe('/index.html');
    expect(targetPath('/?x')).toBe('/index.html');
  });

  it('escapes are decoded once, as UTF-8', () => {
    expect(targetPath('/dir%20x')).toBe('/dir x');
    expect(targetPath('/caf%C3%A9')).toBe('/café');
    expect(targetPath('/a%3fb')).toBe('/a?b'); // an escaped ? is part of the name
    expect(targetPath('/a%25')).toBe('/a%'); // not decoded twice
    expect(targetPath('/%252e%252e/x')).toBe('/%2e%2e/x');
  });

  it('paths as the file system stores them come back unchanged', () => {
    for (const p of ['/index.html', '/dir000/class1_3', '/a/b/c.txt', '/...', '/.hidden', '/a..b'])
      expect(targetPath(p), p).toBe(p);
  });
});

describe('contentType: by the extension of the last segment', () => {
  it('the known extensions', () => {
    const want: Record<string, string> = {
      '/index.html': 'text/html; charset=utf-8',
      '/old.htm': 'text/html; charset=utf-8',
      '/notes.txt': 'text/plain; charset=utf-8',
      '/s/site.css': 'text/css; charset=utf-8',
      '/app.js': 'text/javascript; charset=utf-8',
      '/data.json': 'application/json',
      '/logo.svg': 'image/svg+xml',
      '/logo.png': 'image/png',
      '/anim.gif': 'image/gif',
      '/photo.jpg': 'image/jpeg',
      '/photo.jpeg': 'image/jpeg',
      '/paper.pdf': 'application/pdf',
    };
    for (const [path, type] of Object.entries(want)) expect(contentType(path), path).toBe(type);
  });

  it('the extension is matched without regard to case', () => {
    expect(contentType('/A/INDEX.HTML')).toBe('text/html; charset=utf-8');
    expect(contentType('/Photo.JpG')).toBe('image/jpeg');
  });

  it('anything else is application/octet-stream', () => {
    for (const path of [
      '/dir000/class1_3', // the workloads' files: no extension
      '/a.tar.gz',
      '/file.',
      '/dir.html/file', // a directory's extension is not the file's
      '/x.constructor', // not an object's own property
      '/x.toString',
      '/x.__proto__',
      '/',
    ])
      expect(contentType(path), path).toBe('application/octet-stream');
  });
});

describe('httpHead', () => {
  it('status line in the given version, Content-Type, Content-Length, any more headers, the blank line', () => {
    expect(httpHead('1.1', 200, 'image/png', 123)).toBe('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 123\r\n\r\n');
    expect(httpHead('1.0', 405, 'text/plain; charset=utf-8', 23, 'Allow: GET, HEAD\r\n')).toBe(
      'HTTP/1.0 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 23\r\nAllow: GET, HEAD\r\n\r\n',
    );
  });
});
