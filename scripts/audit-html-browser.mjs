// Drive the `oidc-lint audit --format html` page in headless Chromium (playwright-core, the
// Debian `chromium` binary) and check what a person would see:
//   - the page loads with no console error, no page error and no request but the file itself;
//   - the trust graph has one node per job, per (role, account) and per account in the JSON
//     report of the same run, and one coloured edge per job with a role;
//   - the filter hides rows, the copy buttons copy, the screenshot is written.
// Usage: node audit-html-browser.mjs PAGE.html REPORT.json SCREENSHOT.png
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const require = createRequire(process.env.PLAYWRIGHT_DIR ? process.env.PLAYWRIGHT_DIR + '/' : import.meta.url);
const { chromium } = require('playwright-core');
const [page_path, json_path, shot] = process.argv.slice(2);
const report = JSON.parse(readFileSync(json_path, 'utf8'));

function fail(msg) { console.error('FAIL: ' + msg); process.exitCode = 1; }

// What the graph should hold, from the JSON report (the page caps the graph at 300 jobs).
const jobs = report.repositories.flatMap(r => r.jobs);
const drawn = jobs.slice(0, 300);
const roleOf = j => j.role.name ?? (j.migration ? (j.migration.reuse ? j.migration.role_name : '(new) ' + j.migration.role_name) : null);
const withRole = drawn.filter(j => roleOf(j) !== null);
const accountOf = new Map();
for (const j of jobs) if (j.role.name && j.role.account && !accountOf.has(j.role.name)) accountOf.set(j.role.name, j.role.account);
const acct = j => j.role.account ?? accountOf.get(roleOf(j)) ?? 'account unknown';
const roles = new Set(withRole.map(j => roleOf(j) + '\u0000' + acct(j)));
const accounts = new Set(withRole.map(acct));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => {});
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', e => errors.push('page error: ' + e.message));
  page.on('request', r => requests.push(r.url()));
  const url = pathToFileURL(page_path).href;
  await page.goto(url, { waitUntil: 'load' });

  const count = sel => page.locator(sel).count();
  const got = {
    job: await count('#trust-graph g.node.job'),
    role: await count('#trust-graph g.node.role'),
    account: await count('#trust-graph g.node.account'),
    edges: await count('#trust-graph path.edge[data-job]'),
  };
  const want = { job: drawn.length, role: roles.size, account: accounts.size, edges: withRole.length };
  for (const k of Object.keys(want)) {
    if (got[k] !== want[k]) fail(`graph ${k}: ${got[k]} drawn, ${want[k]} expected`);
  }
  if (want.job === 0) fail('the example has no job: nothing is tested');
  for (const v of ['admitted', 'rejected', 'too-wide', 'unknown']) {
    const n = await count(`#trust-graph path.e-${v}`);
    const expected = withRole.filter(j => j.edge === v).length;
    if (n !== expected) fail(`${v} edges: ${n} drawn, ${expected} expected`);
  }
  const rows = await count('tr.job');
  if (rows !== jobs.length) fail(`table rows: ${rows}, ${jobs.length} jobs in the report`);

  // the filter: a verdict present in the report keeps exactly its rows
  const verdict = jobs[0]?.verdict;
  if (verdict) {
    await page.selectOption('#verdict', verdict);
    const shown = await count('tr.job:not(.hidden)');
    const expected = jobs.filter(j => j.verdict === verdict || j.edge === verdict).length;
    if (shown !== expected) fail(`filter ${verdict}: ${shown} rows shown, ${expected} expected`);
    await page.selectOption('#verdict', '');
    await page.fill('#filter', 'no-such-text-anywhere');
    if (await count('tr.job:not(.hidden)') !== 0) fail('the text filter hides nothing');
    await page.fill('#filter', '');
  }
  // the copy buttons: every patch and policy has one; a click copies its block
  const blocks = await count('pre[id]');
  const buttons = await count('button.copy');
  const migrations = jobs.filter(j => j.migration).length;
  if (buttons !== blocks || (migrations > 0 && buttons < 2 * migrations)) {
    fail(`copy buttons: ${buttons} for ${blocks} blocks and ${migrations} migrations`);
  }
  if (buttons > 0) {
    const b = page.locator('button.copy').first();
    await page.locator('details').first().evaluate(d => { d.open = true; });
    await b.click();
    await page.waitForFunction(() => document.querySelector('button.copy').textContent === 'Copied');
    const want_text = await page.locator('pre[id]').first().textContent();
    const copied = await page.evaluate(() => navigator.clipboard.readText()).catch(() => null);
    if (copied !== null && copied !== want_text) fail('the copy button copied something else');
  }
  await page.locator('details').evaluateAll(ds => ds.forEach(d => { d.open = false; }));
  // the picture: the trust graph under the filter bar
  await page.evaluate(() => {
    const h = [...document.querySelectorAll('h2')].find(e => e.textContent === 'Trust graph');
    window.scrollTo(0, h.offsetTop - 60);
  });
  await page.screenshot({ path: shot, fullPage: false });

  const foreign = requests.filter(u => u !== url);
  if (foreign.length) fail('requests besides the page: ' + foreign.join(', '));
  if (errors.length) fail(errors.join('\n'));
  console.log(`graph: ${got.job} jobs, ${got.role} roles, ${got.account} accounts, ${got.edges} edges; ${rows} rows; ${buttons} copy buttons`);
} finally {
  await browser.close();
}
