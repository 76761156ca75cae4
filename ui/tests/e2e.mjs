#!/usr/bin/env node
// End-to-end run of the StudyDesk UI against a running `studydesk serve`, in headless Chromium.
//
//   STUDYDESK_URL='http://127.0.0.1:PORT/#token=…' \
//   STUDYDESK_PAPER=/path/to/paper.pdf SCREENSHOT_DIR=/tmp/shots node tests/e2e.mjs
//
// Optional: STUDYDESK_SCAN, an image-only PDF, imported after the paper (its pages are read by
// OCR, with per-page progress).
// Optional: CHROMIUM (default /usr/bin/chromium). Every step saves a screenshot; the run goes
// on after a failed step where it can, and exits non-zero if any step failed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const URL_ = process.env.STUDYDESK_URL;
const PAPER = process.env.STUDYDESK_PAPER;
const SCAN = process.env.STUDYDESK_SCAN;
const SHOTS = process.env.SCREENSHOT_DIR || path.join(os.tmpdir(), 'studydesk-e2e');
const EXE = process.env.CHROMIUM || '/usr/bin/chromium';
const QUESTION = 'What does layer normalization normalise over?';

const MIN = 60_000;

function die(message) {
  console.error(`e2e: ${message}`);
  process.exit(2);
}

if (!URL_) die('set STUDYDESK_URL to the URL `studydesk serve` printed (with #token=…)');
if (!/#token=/.test(URL_)) die(`STUDYDESK_URL has no #token=… fragment: ${URL_}`);
if (!PAPER) die('set STUDYDESK_PAPER to a PDF to import');
if (!fs.existsSync(PAPER)) die(`STUDYDESK_PAPER ${PAPER} does not exist`);
if (!fs.existsSync(EXE)) die(`no Chromium at ${EXE} (apt-get install chromium, or set CHROMIUM)`);
fs.mkdirSync(SHOTS, { recursive: true });

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'studydesk-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: EXE,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
  viewport: { width: 1440, height: 900 },
  deviceScaleFactor: 1,
  locale: 'en-US',
  acceptDownloads: true,
});
const page = context.pages()[0] ?? (await context.newPage());

// Anything that should never happen: page errors, CSP violations, dialogs (an injected alert).
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
  const text = m.text();
  if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
  else if (m.type() === 'error') console.log(`  (console error) ${text}`);
});
page.on('dialog', async (d) => {
  problems.push(`unexpected dialog: ${d.type()} ${d.message()}`);
  await d.dismiss().catch(() => undefined);
});
page.on('request', (r) => {
  const u = r.url();
  if (!u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== new URL(URL_).origin) {
    problems.push(`remote request: ${u}`);
  }
});

const results = [];
const shots = [];
let shotNo = 0;

async function shot(name) {
  shotNo += 1;
  const file = path.join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: false }).catch((e) => console.log(`  (screenshot failed: ${e.message})`));
  shots.push(file);
  return file;
}

async function step(name, fn, { critical = false } = {}) {
  const started = Date.now();
  process.stdout.write(`- ${name} … `);
  try {
    await fn();
    const s = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`ok (${s} s)`);
    results.push({ name, ok: true });
    return true;
  } catch (e) {
    const message = (e && e.message ? e.message : String(e)).split('\n').slice(0, 6).join('\n    ');
    console.log(`FAILED\n    ${message}`);
    results.push({ name, ok: false, message });
    await shot(`failed-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
    if (critical) await finish();
    return false;
  }
}

const tid = (id) => `[data-testid="${id}"]`;

async function connectionError() {
  const banner = page.locator(tid('connection-error'));
  if (await banner.count()) return (await banner.innerText()).replace(/\s+/g, ' ');
  return null;
}

async function nav(view) {
  await page.click(tid(`nav-${view}`));
  await page.waitForSelector(tid(`view-${view}`));
}

async function finish() {
  console.log('\nscreenshots:');
  for (const s of shots) console.log(`  ${s}`);
  if (problems.length) {
    console.log('\nproblems seen in the page:');
    for (const p of problems) console.log(`  ${p}`);
    results.push({ name: 'no page errors, CSP violations, dialogs or remote requests', ok: false });
  } else {
    results.push({ name: 'no page errors, CSP violations, dialogs or remote requests', ok: true });
  }
  const failed = results.filter((r) => !r.ok);
  console.log(`\n${results.length - failed.length} passed, ${failed.length} failed`);
  for (const f of failed) console.log(`  FAILED: ${f.name}${f.message ? ` — ${f.message}` : ''}`);
  await context.close().catch(() => undefined);
  fs.rmSync(profile, { recursive: true, force: true });
  process.exit(failed.length ? 1 : 0);
}

// 1. The app opens and shows the topics (the bank may be indexing first).
await step(
  'open the app and see the topics',
  async () => {
    await page.goto(URL_, { waitUntil: 'domcontentloaded' });
    const deadline = Date.now() + 3 * MIN;
    let sawIndexing = false;
    for (;;) {
      const err = await connectionError();
      if (err) throw new Error(`connection error shown: ${err}`);
      const indexErr = page.locator(tid('bank-index-error'));
      if (await indexErr.count()) throw new Error(`bank indexing failed: ${await indexErr.innerText()}`);
      const indexing = await page.locator(tid('bank-indexing')).count();
      if (indexing && !sawIndexing) {
        sawIndexing = true;
        // Once the bar has moved, for the record.
        await page
          .waitForFunction(() => Number(document.querySelector('[data-testid="bank-index-progress"]')?.getAttribute('data-value') || 0) > 0, null, { timeout: 60_000 })
          .catch(() => undefined);
        await shot('bank-indexing');
      }
      const rows = await page.locator(tid('topic-row')).count();
      if (rows > 0 && !indexing) break;
      if (Date.now() > deadline) throw new Error(`no topics after 3 minutes (rows=${rows}, indexing=${indexing > 0})`);
      await page.waitForTimeout(500);
    }
    const rows = await page.locator(tid('topic-row')).count();
    if (rows < 2) throw new Error(`only ${rows} topic rows`);
    await shot('topics');
  },
  { critical: true },
);

// 2. Topic t01 and its first question.
await step('open topic t01 and question t01-q001', async () => {
  await page.click(`${tid('topic-row')}[data-id="t01"]`);
  await page.waitForSelector(`${tid('question-row')}[data-id="t01-q001"]`, { timeout: 30_000 });
  await page.click(`${tid('question-row')}[data-id="t01-q001"]`);
  await page.waitForSelector(`${tid('question-detail')}[data-id="t01-q001"]`, { timeout: 60_000 });
  const text = await page.locator(tid('question-text')).innerText();
  if (!text.trim()) throw new Error('the question text is empty');
  await shot('question');
});

// 3. Import the paper through the file input.
const paperName = path.basename(PAPER);
await step(`import ${paperName} in the Library`, async () => {
  await nav('library');
  await page.setInputFiles(tid('import-input'), PAPER);
  const job = page.locator(`${tid('import-job')}[data-file="${paperName}"]`).first();
  await job.waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1500);
  await shot('import-progress');
  await page.waitForFunction(
    (name) => {
      const el = [...document.querySelectorAll('[data-testid="import-job"]')].find((j) => j.getAttribute('data-file') === name);
      return el && (el.dataset.state === 'done' || el.dataset.state === 'error');
    },
    paperName,
    { timeout: 10 * MIN, polling: 500 },
  );
  const state = await job.getAttribute('data-state');
  if (state === 'error') throw new Error(`import failed: ${await job.locator(tid('import-error')).innerText()}`);
  const bar = job.locator(tid('import-progress'));
  if ((await bar.getAttribute('data-state')) !== 'done') throw new Error('the progress bar did not finish');
  await page.waitForSelector(`${tid('doc-row')}[data-file="${paperName}"]`, { timeout: 30_000 });
  await shot('library');
});

// 3b. A scanned PDF: OCR reads its pages, page by page, in the import's progress line.
if (SCAN) {
  const scanName = path.basename(SCAN);
  await step(`import the scanned ${scanName}: OCR progress per page`, async () => {
    await nav('library');
    await page.setInputFiles(tid('import-input'), SCAN);
    const job = page.locator(`${tid('import-job')}[data-file="${scanName}"]`).first();
    await job.waitFor({ timeout: 30_000 });
    const ocrLine = await page
      .waitForFunction(
        (name) => {
          const el = [...document.querySelectorAll('[data-testid="import-job"]')].find((j) => j.getAttribute('data-file') === name);
          const text = el?.textContent ?? '';
          return /OCR page \d+\/\d+/.test(text) ? text : false;
        },
        scanName,
        { timeout: 2 * MIN, polling: 100 },
      )
      .then((h) => h.jsonValue());
    await shot('import-ocr-progress');
    await page.waitForFunction(
      (name) => {
        const el = [...document.querySelectorAll('[data-testid="import-job"]')].find((j) => j.getAttribute('data-file') === name);
        return el && (el.dataset.state === 'done' || el.dataset.state === 'error');
      },
      scanName,
      { timeout: 5 * MIN, polling: 500 },
    );
    if ((await job.getAttribute('data-state')) === 'error') throw new Error(`import failed: ${await job.locator(tid('import-error')).innerText()}`);
    await page.waitForSelector(`${tid('doc-row')}[data-file="${scanName}"]`, { timeout: 30_000 });
    console.log(`\n    progress showed: ${String(ocrLine).match(/OCR page \d+\/\d+/)[0]}`);
    await shot('library-with-scan');
  });
}

// 4. Ask in the chat and wait for the streamed answer.
let answered = false;
let liveSources = null;
await step('ask in the chat and get a cited answer', async () => {
  await nav('topics');
  if (!(await page.locator(tid('chat-input')).count())) await page.click(tid('open-chat'));
  await page.fill(tid('chat-input'), QUESTION);
  await page.click(tid('chat-send'));
  await page.waitForSelector(tid('chat-answer'), { timeout: 30_000 });
  // A moment into the stream, for the record.
  await page
    .waitForFunction(() => document.querySelector('[data-testid="answer-body"]')?.textContent?.length > 40, null, { timeout: 60_000 })
    .then(() => shot('chat-streaming'))
    .catch(() => undefined);
  await page.waitForFunction(
    () => {
      const all = document.querySelectorAll('[data-testid="chat-answer"]');
      const last = all[all.length - 1];
      return last && last.getAttribute('data-state') !== 'streaming';
    },
    null,
    { timeout: 3 * MIN, polling: 500 },
  );
  const last = page.locator(tid('chat-answer')).last();
  const state = await last.getAttribute('data-state');
  if (state === 'error') throw new Error(`the answer failed: ${await last.innerText()}`);
  const chips = await last.locator('button.cite:not([disabled])').count();
  const sources = await last.locator(tid('source-item')).count();
  // The answer opens with the sources' own sentences, each with its citation chip; the
  // passages they come from are listed under it.
  if (chips === 0) throw new Error(`the answer has no citation chip: ${await last.innerText()}`);
  if (sources === 0) throw new Error('the answer lists no source');
  if (!(await last.locator('blockquote').count())) throw new Error('the answer quotes no sentence of the sources');
  answered = true;
  const box = last.locator(tid('answer-sources'));
  if (await box.count()) {
    liveSources = { count: sources, uncited: (await box.getAttribute('data-uncited')) === 'true' };
    console.log(`\n    ${chips} chips, ${sources} sources${liveSources.uncited ? ' (uncited: written from these passages)' : ''}`);
  }
  await shot('chat-answer');
});

// 5. A document citation opens the page viewer with highlights on the cited page.
await step('open a document citation in the page viewer', async () => {
  if (!answered) throw new Error('no answer to take a citation from');
  const last = page.locator(tid('chat-answer')).last();
  let target = last.locator('button.cite[data-source="doc"]:not([disabled])').first();
  if (!(await target.count())) target = last.locator(`${tid('source-item')}[data-source="doc"]`).first();
  if (!(await target.count())) throw new Error('the answer cites no document passage (only bank items)');
  const cited = Number(await target.getAttribute('data-page'));
  await target.scrollIntoViewIfNeeded();
  await target.click();
  await page.waitForSelector(tid('page-viewer'), { timeout: 10_000 });
  const img = page.locator(tid('page-image'));
  await img.waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="page-image"]');
    return el && el.complete && el.naturalWidth > 0;
  });
  const boxes = await page.locator(tid('highlight-box')).count();
  const shown = Number(await page.locator(tid('viewer-page')).getAttribute('data-page'));
  await shot('page-viewer');
  if (boxes < 1) throw new Error(`no highlight box on page ${shown}`);
  if (Number.isFinite(cited) && cited > 0 && shown !== cited) throw new Error(`the viewer shows page ${shown}, the citation says ${cited}`);
  const box = await page.locator(tid('highlight-box')).first().boundingBox();
  const imgBox = await img.boundingBox();
  if (!box || !imgBox || box.width < 2 || box.height < 2) throw new Error('the highlight box has no size');
  if (box.x < imgBox.x - 1 || box.y < imgBox.y - 1 || box.x + box.width > imgBox.x + imgBox.width + 1) throw new Error('the highlight box lies outside the page');
  await page.keyboard.press('Escape');
  await page.waitForSelector(tid('page-viewer'), { state: 'detached', timeout: 5_000 });
});

// 5b. The conversation reopened from the history shows the same passages, the same way.
await step('reopen the conversation from the history', async () => {
  if (!answered) throw new Error('no conversation to reopen');
  await page.click(tid('chat-new'));
  await page.click(tid('chat-history'));
  await page.locator(tid('conversation-row')).first().click();
  const last = page.locator(tid('chat-answer')).last();
  await last.waitFor({ timeout: 30_000 });
  const sources = await last.locator(tid('source-item')).count();
  const box = last.locator(tid('answer-sources'));
  const uncited = (await box.count()) ? (await box.getAttribute('data-uncited')) === 'true' : null;
  await shot('chat-reopened');
  if (liveSources && sources !== liveSources.count) throw new Error(`reopened: ${sources} sources, live answer had ${liveSources.count}`);
  if (liveSources && uncited !== liveSources.uncited) throw new Error(`reopened: uncited=${uncited}, live answer uncited=${liveSources.uncited}`);
});

// 6. A short quiz on t01 with one new card.
await step('quiz on t01 with 1 new card: answer, grade, rate Good', async () => {
  await nav('quiz');
  await page.check(`${tid('quiz-topic')}[data-id="t01"]`);
  await page.fill(tid('quiz-new-cards'), '1');
  await page.click(tid('quiz-start'));
  for (let i = 0; i < 6; i++) {
    await page.waitForSelector(`${tid('quiz-answer')}, ${tid('quiz-summary')}, .setup .notice-box`, { timeout: 60_000 });
    if (await page.locator(tid('quiz-summary')).count()) break;
    const notice = page.locator('.setup .notice-box');
    if (await notice.count()) throw new Error(`the quiz did not start: ${await notice.innerText()}`);
    await page.fill(tid('quiz-answer'), 'Layer normalization normalises over the hidden units (features) of each example, with a learned gain and bias; it does not depend on the batch.');
    await page.focus(tid('quiz-answer'));
    await page.keyboard.press('Enter');
    await page.waitForSelector(`${tid('grade-box')}, ${tid('quiz-card')} .error-box`, { timeout: 3 * MIN });
    const err = page.locator(`${tid('quiz-card')} .error-box`);
    if (await err.count()) throw new Error(`grading failed: ${await err.innerText()}`);
    const score = await page.locator(tid('grade-score')).innerText();
    if (i === 0) await shot('quiz-grade');
    console.log(`\n    card ${i + 1}: ${score.trim()}`);
    const before = await page.locator(tid('quiz-progress')).innerText();
    await page.keyboard.press('3');
    await page.waitForFunction(
      (prev) => document.querySelector('[data-testid="quiz-summary"]') || (document.querySelector('[data-testid="quiz-progress"]')?.textContent ?? '') !== prev,
      before,
      { timeout: 30_000 },
    );
  }
  await page.waitForSelector(tid('quiz-summary'), { timeout: 30_000 });
  await shot('quiz-summary');
});

// 6b. Practice questions from the paper: the generate events drive the panel.
await step(`generate practice questions from ${paperName}`, async () => {
  await nav('library');
  const row = page.locator(`${tid('doc-row')}[data-file="${paperName}"]`).first();
  await row.locator(tid('generate-button')).click();
  const panel = page.locator(tid('generate-panel')).first();
  await panel.waitFor({ timeout: 10_000 });
  await page
    .waitForFunction(() => document.querySelector('[data-testid="generate-panel"]')?.getAttribute('data-candidates'), null, { timeout: 5 * MIN })
    .then(() => shot('generate-running'))
    .catch(() => undefined);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="generate-panel"]')?.getAttribute('data-state') !== 'running',
    null,
    { timeout: 20 * MIN, polling: 1000 },
  );
  await shot('generate-done');
  const state = await panel.getAttribute('data-state');
  if (state === 'error') throw new Error(`generation failed: ${await panel.locator('.error-box').innerText()}`);
  const candidates = await panel.getAttribute('data-candidates');
  const kept = await panel.locator(tid('generated-kept')).count();
  const dropped = await panel.locator(tid('generated-dropped')).count();
  console.log(`\n    ${candidates || '?'} candidates, ${kept} kept, ${dropped} dropped`);
  if (!candidates) throw new Error('no "started" generate event reached the panel');
  if (kept + dropped === 0) throw new Error('nothing kept or dropped');
});

// 6c. A short mock interview on t01: two questions, a follow-up on the first, the debrief.
await step('mock interview on t01: two questions, a follow-up, the debrief', async () => {
  await nav('interview');
  await page.selectOption(tid('interview-topic'), 't01');
  await page.fill(tid('interview-minutes'), '10');
  await page.click(tid('interview-start'));
  const answers = {
    question: 'LayerNorm normalises each example over its features.',
    follow_up: 'I am not sure; it rescales with a learned gain.',
  };
  let questions = 0;
  let followUps = 0;
  for (let turn = 0; turn < 6; turn++) {
    await page.waitForSelector(`${tid('interview-current')}, ${tid('interview-debrief')}, ${tid('interview-error')}`, { timeout: 5 * MIN });
    const err = page.locator(tid('interview-error'));
    if (await err.count()) throw new Error(`the interview failed: ${await err.innerText()}`);
    if (await page.locator(tid('interview-debrief')).count()) break;
    const current = page.locator(tid('interview-current'));
    const kind = await current.getAttribute('data-kind');
    if (kind === 'question') {
      questions += 1;
      // Two questions: after the second, the interview is ended by the learner.
      if (questions > 2) {
        await page.click(tid('interview-finish'));
        break;
      }
    } else {
      followUps += 1;
      if (followUps === 1) await shot('interview-follow-up');
    }
    const seq = await page.locator(`${tid('interview-transcript')} .turn`).count();
    await page.fill(tid('interview-answer'), answers[kind] ?? answers.question);
    await page.click(tid('interview-submit'));
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="interview-transcript"] .turn').length > n || document.querySelector('[data-testid="interview-debrief"]') || document.querySelector('[data-testid="interview-error"]'),
      seq,
      { timeout: 5 * MIN },
    );
  }
  await page.waitForSelector(tid('interview-debrief'), { timeout: 60_000 });
  console.log(`\n    ${questions} questions asked, ${followUps} follow-ups`);
  if (followUps < 1) throw new Error('no follow-up after a partial answer');
  const graded = await page.locator(tid('debrief-question')).count();
  if (graded < 1) throw new Error('the debrief lists no question');
  await shot('interview-debrief');
  // Each question is graded against the learner's sources, and then cites them, or says
  // that it was not.
  const debriefed = page.locator(tid('debrief-question'));
  const kinds = [];
  for (let i = 0; i < graded; i++) {
    const q = debriefed.nth(i);
    const from = await q.getAttribute('data-points-from');
    kinds.push(from);
    const cited = await q.locator(tid('debrief-source')).count();
    const flagged = await q.locator(tid('debrief-not-sources')).count();
    if (from === 'sources' && cited < 1) throw new Error(`question ${i + 1} is graded from the sources but cites none`);
    if (from !== 'sources' && flagged < 1) throw new Error(`question ${i + 1} is graded from ${from} without saying so`);
  }
  console.log(`    graded from: ${kinds.join(', ')}`);
});

// 7. Stats and Settings.
await step('stats: mastery map, plan, table and chart', async () => {
  await nav('stats');
  await page.waitForSelector(tid('stats-chart'), { timeout: 30_000 });
  const rows = await page.locator(tid('stats-row')).count();
  if (rows < 1) throw new Error('the stats table has no rows');
  const bars = await page.locator(tid('history-bar')).count();
  if (bars < 1) throw new Error('the history chart has no bars');
  const cells = await page.locator(tid('mastery-cell')).count();
  if (cells !== 35) throw new Error(`the mastery map has ${cells} topics, not 35`);
  const t01 = await page.locator(`${tid('mastery-cell')}[data-topic="t01"]`).getAttribute('data-mastery');
  if (!t01) throw new Error('t01 was studied but has no mastery');
  await page.click(`${tid('mastery-cell')}[data-topic="t01"]`);
  await page.waitForSelector(`${tid('mastery-weakest')} li`, { timeout: 10_000 });
  const date = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  await page.fill(tid('plan-date'), date);
  await page.click(tid('plan-set'));
  await page.waitForSelector(tid('plan-summary'), { timeout: 60_000 });
  const plan = (await page.locator(tid('plan-summary')).innerText()).replace(/\s+/g, ' ');
  if (!plan.includes(date)) throw new Error(`the plan does not show the date: ${plan}`);
  console.log(`\n    ${plan}`);
  await page.locator(tid('mastery-map')).scrollIntoViewIfNeeded();
  await shot('stats-mastery-plan');
  await page.locator(tid('stats-chart')).scrollIntoViewIfNeeded();
  await shot('stats');
});

await step('settings: form, index, data folder and version', async () => {
  await nav('settings');
  await page.waitForSelector(tid('settings-form'), { timeout: 30_000 });
  const version = (await page.locator(tid('version')).innerText()).trim();
  const dataDir = (await page.locator(tid('data-dir')).innerText()).trim();
  if (!version || version === '—') throw new Error('no version shown');
  if (!dataDir || dataDir === '—') throw new Error('no data folder shown');
  // The default store is the embedded engine, in the data folder's index/ folder.
  const index = (await page.locator(tid('index-location')).innerText()).trim();
  if (!index.includes('embedded') || !index.includes(dataDir)) throw new Error(`index shown as ${index}`);
  await shot('settings');
});

// 8. The same app in Chinese and the dark theme.
await step('中文 + dark theme', async () => {
  await page.click(tid('ui-lang-zh'));
  await page.click(tid('theme-dark'));
  await nav('topics');
  await page.waitForSelector(`${tid('topic-row')}, ${tid('question-row')}`);
  const label = await page.locator(tid('nav-topics')).innerText();
  if (!/题库/.test(label)) throw new Error(`the nav did not switch to Chinese: ${label}`);
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  if (theme !== 'dark') throw new Error(`theme is ${theme}`);
  await shot('dark-zh');
});

// 9. Nothing injected survived: no inline handlers or javascript: links anywhere in the page.
await step('no event-handler attributes or javascript: URLs in the DOM', async () => {
  const bad = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) {
        if (/^on/i.test(a.name) || /^\s*javascript:/i.test(a.value)) out.push(`${el.tagName} ${a.name}=${a.value}`);
      }
    }
    return out;
  });
  if (bad.length) throw new Error(bad.join('; '));
});

await finish();
