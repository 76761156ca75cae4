// Drives the real StudyDesk desktop window (Tauri 2 + WebKitGTK) through tauri-driver and
// WebKitWebDriver, with plain WebDriver requests: the first-run bank indexing finishes, the
// topics list appears, a topic opens with its questions, and a question shows its points.
// Screenshots go to SCREENSHOT_DIR. Run under Xvfb by scripts/test.sh.
//
//   TAURI_DRIVER_URL=http://127.0.0.1:4444 STUDYDESK_DESKTOP=/path/studydesk-desktop \
//   SCREENSHOT_DIR=/tmp/shots node tests/desktop/window.mjs

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const driver = process.env.TAURI_DRIVER_URL ?? "http://127.0.0.1:4444";
const application = process.env.STUDYDESK_DESKTOP;
const shots = process.env.SCREENSHOT_DIR ?? "target/screenshots/desktop";
if (!application) throw new Error("set STUDYDESK_DESKTOP to the studydesk-desktop binary");
mkdirSync(shots, { recursive: true });

async function wd(method, path, body) {
  const response = await fetch(driver + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json.value;
}

const ELEMENT = "element-6066-11e4-a52e-4f735466cecc";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(session, css, seconds, what) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const found = await wd("POST", `/session/${session}/elements`, { using: "css selector", value: css });
    if (found.length) return found.map((e) => e[ELEMENT] ?? Object.values(e)[0]);
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what} (${css})`);
    await sleep(500);
  }
}

async function shot(session, name) {
  const png = await wd("GET", `/session/${session}/screenshot`);
  const path = join(shots, name);
  writeFileSync(path, Buffer.from(png, "base64"));
  console.log(`screenshot ${path}`);
}

const text = (session, id) => wd("GET", `/session/${session}/element/${id}/text`);
const click = (session, id) => wd("POST", `/session/${session}/element/${id}/click`, {});

const { sessionId: session } = await wd("POST", "/session", {
  capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application } } },
});
let failed = false;
try {
  const title = await wd("GET", `/session/${session}/title`);
  console.log(`window title: ${title}`);
  // First run: the bank is indexed with a progress bar, then the 35 topics are listed.
  await waitFor(session, '[data-testid="nav-topics"]', 60, "the navigation");
  await shot(session, "01-first-run.png");
  const topics = await waitFor(session, '[data-testid="topic-row"]', 240, "the topic list");
  if (topics.length !== 35) throw new Error(`expected 35 topics, found ${topics.length}`);
  // The progress bar goes away when the bank is indexed.
  const deadline = Date.now() + 240_000;
  while ((await wd("POST", `/session/${session}/elements`, { using: "css selector", value: '[data-testid="bank-indexing"]' })).length) {
    if (Date.now() > deadline) throw new Error("bank indexing did not finish within 240 s");
    await sleep(1000);
  }
  await shot(session, "02-topics.png");
  const first = await text(session, topics[0]);
  if (!/Normalization/.test(first)) throw new Error(`first topic reads ${JSON.stringify(first)}`);
  await click(session, topics[0]);
  const questions = await waitFor(session, '[data-testid="question-row"]', 30, "the questions of t01");
  if (questions.length !== 20) throw new Error(`t01 should list 20 questions, found ${questions.length}`);
  await click(session, questions[0]);
  const [detail] = await waitFor(session, '[data-testid="question-detail"]', 30, "the question detail");
  const detailText = await text(session, detail);
  if (!detailText.includes("LayerNorm")) throw new Error(`question detail reads ${JSON.stringify(detailText)}`);
  await shot(session, "03-question.png");
  console.log("desktop window: first run indexed the bank, 35 topics, t01 has 20 questions, t01-q001 opens");
} catch (error) {
  failed = true;
  console.error(`desktop window test failed: ${error.message}`);
  try { await shot(session, "99-failure.png"); } catch {}
} finally {
  await wd("DELETE", `/session/${session}`).catch(() => {});
}
process.exit(failed ? 1 : 0);
