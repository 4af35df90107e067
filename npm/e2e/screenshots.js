// Screenshots of the dashboard tests, kept as artefacts in
// target/dashboard-screenshots/: each test file's own (the screens it
// visits) and, when a test fails, one of every page it had open, named
// `failed-<file prefix><test name>.png`. scripts/test.sh lists them after
// the run.
import { afterEach } from 'node:test';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './harness.js';

export const SHOTS = path.join(root, 'target/dashboard-screenshots');
const MARKER = path.join(SHOTS, '.run');

/** The `node --test` process running this file (its id and start time), or this process when run alone. */
function runId() {
  const parent = process.ppid;
  let started = '';
  try {
    // Field 22 of /proc/<pid>/stat: start time, so a reused pid is another run.
    started = readFileSync(`/proc/${parent}/stat`, 'utf8').split(') ').pop().split(' ')[19] || '';
  } catch {}
  return `${parent}:${started}`;
}

/**
 * Empties the directory at the start of a test run and returns its path.
 * The test files of one `node --test` run are child processes of the same
 * runner (and may run at the same time): the first to start, seeing a
 * marker of another run, clears what earlier runs left; the others keep
 * what the run has written so far.
 */
export function prepareScreenshots() {
  mkdirSync(SHOTS, { recursive: true });
  const run = runId();
  let seen = null;
  try {
    seen = readFileSync(MARKER, 'utf8');
  } catch {}
  if (seen !== run) {
    for (const name of readdirSync(SHOTS)) rmSync(path.join(SHOTS, name), { recursive: true, force: true });
    writeFileSync(MARKER, run);
  }
  return SHOTS;
}

const slug = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80);

/**
 * After each test of this file that failed, a full-page screenshot of each
 * page `pages()` returns that is still open (Playwright and puppeteer pages
 * alike), so the artefacts show what the page looked like at the failure.
 */
export function screenshotFailures(prefix, pages) {
  afterEach(async (t) => {
    // `passed` is set before the hooks run when the test passed; false here means it failed.
    if (t.passed !== false) return;
    const open = [...pages()].filter((p) => p && !p.isClosed());
    for (const [i, p] of open.entries()) {
      const file = path.join(SHOTS, `failed-${prefix}${slug(t.name)}${open.length > 1 ? `-${i + 1}` : ''}.png`);
      try {
        await p.screenshot({ path: file, fullPage: true });
        console.error(`screenshot of the failure: ${path.relative(root, file)}`);
      } catch (e) {
        console.error(`no screenshot of the failure (${e.message})`);
      }
    }
  });
}
