/**
 * The HTML report in a real browser (Debian's chromium, driven by
 * playwright-core; no browser is ever downloaded): every chart draws with the
 * data marks it should have, nothing is logged as an error, nothing but the
 * file itself is requested, the cost-profile switcher works, and all of it
 * the same with JavaScript disabled. A screenshot goes to test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { compare, type Comparison } from '../src/compare.js';
import { loadProfile, shippedProfiles, type Profile } from '../src/costmodel/profile.js';
import type { RequestSequence } from '../src/trace/types.js';
import { drawnParts, pricedLabels, toHtml } from '../src/report/html.js';

const CHROMIUM = '/usr/bin/chromium';
const LABELS = ['monolithic', 'microkernel:copy', 'microkernel:shared'];
const SCREENSHOT = fileURLToPath(new URL('../test-artifacts/html-report.png', import.meta.url));

/** One request's path: the wire to net to app, app to fs to disk, and the replies back. */
const SEQUENCE: RequestSequence = {
  reqId: 42,
  request: 'GET /dir00001/class1_3',
  steps: [
    { from: 'wire', to: 'net', type: 'FRAME_RX', kind: 'call', sentUs: 0, handledUs: 4.2 },
    { from: 'net', to: 'app', type: 'HTTP_REQUEST', kind: 'call', sentUs: 9.5, handledUs: 14.1 },
    { from: 'app', to: 'fs', type: 'FS_READ', kind: 'call', sentUs: 20.3, handledUs: 25 },
    { from: 'fs', to: 'disk', type: 'DISK_READ', kind: 'call', sentUs: 27.8, handledUs: 33.4 },
    { from: 'disk', to: 'fs', type: 'reply', kind: 'reply', sentUs: 61.2, handledUs: 66.9 },
    { from: 'fs', to: 'fs', type: 'CACHE_FILL', kind: 'call', sentUs: 67.5, handledUs: 68 },
    { from: 'fs', to: 'app', type: 'reply', kind: 'reply', sentUs: 70.1, handledUs: 75.6 },
    { from: 'app', to: 'net', type: 'NET_SEND', kind: 'call', sentUs: 80, handledUs: 84.7 },
    { from: 'net', to: 'wire', type: 'reply', kind: 'reply', sentUs: 112.9, handledUs: 118 },
  ],
};

interface Watched {
  page: Page;
  errors: string[];
  requests: string[];
}

describe('the HTML report in a browser', () => {
  let cmp: Comparison;
  let profiles: Profile[];
  let dir: string;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    // no silent skip: without the browser this test fails and says what to do
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get update && apt-get install -y chromium); this test never downloads a browser`);
    }
    cmp = await compare({ requests: 200, rounds: 2, warmupRounds: 0, labels: LABELS });
    profiles = shippedProfiles().map((n) => loadProfile(n));
    dir = mkdtempSync(join(tmpdir(), 'microlith-html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, toHtml(cmp, { profiles, sequence: SEQUENCE, title: 'microlith test report' }));
    url = pathToFileURL(file).href;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh page in its own context, its errors and requests recorded, at the report. */
  async function open(javaScriptEnabled: boolean): Promise<Watched> {
    const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(url, { waitUntil: 'load' });
    return { page, errors, requests };
  }

  /** The chart of `kind` (and profile index, for the modelled ones): its box and its data marks. */
  async function chart(page: Page, selector: string): Promise<{ box: { width: number; height: number } | null; marks: number }> {
    const svg = page.locator(selector);
    expect(await svg.count(), selector).toBe(1);
    return { box: await svg.boundingBox(), marks: await svg.locator('.mark').count() };
  }

  /** The stacked segments the modelled chart of profile `i` should draw: one per label and part above zero. */
  const segments = (i: number) => pricedLabels(cmp, profiles[i]).reduce((n, p) => n + drawnParts(p.modelled).length, 0);

  async function checkPage(w: Watched): Promise<void> {
    const { page } = w;
    expect(await page.title()).toBe('microlith test report');
    const charts = [
      ['svg[data-chart="cdf"]', LABELS.length],
      ['svg[data-chart="throughput"]', LABELS.length],
      ['svg[data-chart="sequence"]', SEQUENCE.steps.length],
    ] as const;
    for (const [sel, marks] of charts) {
      const c = await chart(page, sel);
      expect(c.box, sel).not.toBeNull();
      expect(c.box!.width, sel).toBeGreaterThan(100);
      expect(c.box!.height, sel).toBeGreaterThan(50);
      expect(c.marks, sel).toBe(marks);
      // each chart is a figure with a caption, and an image with a title
      expect(await page.locator(`figure:has(${sel}) figcaption`).count(), sel).toBe(1);
      expect(await page.locator(`${sel}[role="img"] > title`).textContent(), sel).toBeTruthy();
    }
    // every CDF line and every bar is drawn with a real extent
    for (const sel of ['svg[data-chart="cdf"] .mark', 'svg[data-chart="throughput"] .mark']) {
      for (const box of await Promise.all((await page.locator(sel).all()).map((m) => m.boundingBox()))) {
        expect(box, sel).not.toBeNull();
        expect(box!.width, sel).toBeGreaterThan(0);
      }
    }
    // one modelled chart per profile; the runs' own profile shown first, the others hidden
    expect(await page.locator('svg[data-chart="modelled"]').count()).toBe(profiles.length);
    const own = profiles.findIndex((p) => p.name === cmp.results[0].modelled.profile);
    expect(own).toBeGreaterThanOrEqual(0);
    const other = (own + 1) % profiles.length;
    const shown = await chart(page, `#chart-modelled-${own}`);
    expect(shown.box).not.toBeNull();
    expect(shown.box!.height).toBeGreaterThan(50);
    expect(shown.marks).toBe(segments(own));
    expect(shown.marks).toBeGreaterThanOrEqual(LABELS.length);
    expect((await chart(page, `#chart-modelled-${other}`)).box).toBeNull();
    // the switcher is radios and CSS: picking another profile shows its chart alone
    await page.locator(`label[for="profile-${other}"]`).click();
    expect(await page.locator(`#profile-${other}`).isChecked()).toBe(true);
    const switched = await chart(page, `#chart-modelled-${other}`);
    expect(switched.box).not.toBeNull();
    expect(switched.marks).toBe(segments(other));
    expect((await chart(page, `#chart-modelled-${own}`)).box).toBeNull();
    // the summary names every label, and says what kind each figure is
    const table = (await page.locator('#summary table').textContent()) ?? '';
    for (const label of LABELS) expect(table).toContain(label);
    for (const kind of ['host-measured', 'counted', 'modelled (pentium-pro-1996)']) expect(table).toContain(kind);
    expect(await page.locator('#summary .facts').textContent()).toContain(cmp.results[0].reports[0].env.node);
    expect(w.errors).toEqual([]);
    expect(w.requests).toEqual([url]);
  }

  it('draws every chart with its data marks, requests nothing but itself, and logs no error', async () => {
    const w = await open(true);
    await checkPage(w);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    // back to the runs' own profile for the picture
    const own = profiles.findIndex((p) => p.name === cmp.results[0].modelled.profile);
    await w.page.locator(`label[for="profile-${own}"]`).click();
    await w.page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    await w.page.context().close();
  });

  it('reads the same with JavaScript disabled', async () => {
    const w = await open(false);
    await checkPage(w);
    await w.page.context().close();
  });
});
