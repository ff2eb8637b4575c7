import { describe, expect, it } from 'vitest';
import { inetChecksum } from '../src/servers/inet-checksum.js';
describe('smoke', () => {
  it('rfc1071 example', () => {
    expect(inetChecksum(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]))).toBe(0x220d);
  });
});
