#!/usr/bin/env node
// A stand-in for `studydesk serve`, for working on the UI without the Rust core:
//   npm run build && node tests/mock-server.mjs [port]
// It serves ui/dist and answers POST /api/call/<command> with canned data as server-sent
// events, shaped like the core's current output. Not used by the real tests.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '..', 'dist');
const port = Number(process.argv[2] ?? 0);
const token = crypto.randomBytes(16).toString('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- data -------------------------------------------------------------------------------
const topicTitles = [
  'LayerNorm 与 BatchNorm',
  '位置编码 (RoPE)',
  '注意力机制',
  'LoRA 微调',
  'RLHF 与 DPO',
];
const topics = topicTitles.map((title, i) => {
  const id = `t${String(i + 1).padStart(2, '0')}`;
  const questions = Array.from({ length: 8 }, (_, j) => ({
    id: `${id}-q${String(j + 1).padStart(3, '0')}`,
    topic_id: id,
    number: j + 1,
    subsection: j < 4 ? '基础' : '进阶',
    text:
      j === 0 && i === 0
        ? 'LayerNorm 的计算公式是什么？它在哪个维度上做归一化？$y = \\frac{x-\\mu}{\\sqrt{\\sigma^2+\\epsilon}}\\gamma + \\beta$'
        : `${title} 相关问题 ${j + 1}：请解释其原理并说明与常见替代方案的区别。`,
    points: ['对每个样本的特征维度求均值 $\\mu$ 和方差 $\\sigma^2$', '不依赖 batch 大小，适合 RNN/Transformer', '有可学习的 $\\gamma$、$\\beta$'],
  }));
  return { id, title, questions };
});
const cards = new Map();
const docs = [];
const conversations = [];
let bankIndexed = false;

function findQuestion(id) {
  for (const t of topics) for (const q of t.questions) if (q.id === id) return { q, t };
  return null;
}

function docHit(rank, text, page = 2) {
  const doc = docs[0];
  if (!doc) return null;
  return { rank, score: 0.8 - rank / 10, source: 'doc', doc: doc.file_name, doc_id: doc.id, page, section: '3 Layer normalization', text };
}

function bankHit(rank, q) {
  return { rank, score: 0.9 - rank / 10, source: 'bank', question_id: q.id, topic_id: q.topic_id, text: `${q.text}\n${q.points.join('\n')}` };
}

function citations(hits) {
  return hits.filter(Boolean).map((hit, i) => ({
    n: i + 1,
    label: hit.question_id ? `bank ${hit.question_id}` : `${hit.doc} p.${hit.page}`,
    hit: { ...hit, rank: i + 1 },
  }));
}

// A page image: white, grey "lines of text", 850×1100.
function pagePng(page) {
  const w = 850, h = 1100;
  const raw = Buffer.alloc((w * 3 + 1) * h, 255);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    const line = Math.floor((y - 120) / 22);
    const inLine = y > 120 && y < 1000 && (y - 120) % 22 < 10;
    if (!inLine) continue;
    const len = 650 - ((line * 37 + page * 13) % 180);
    for (let x = 100; x < 100 + len; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = raw[o + 1] = raw[o + 2] = 150;
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return {
    png: Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', zlib.deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]),
    w,
    h,
  };
}

function topicProgress(t) {
  const ids = t.questions.map((q) => q.id);
  const seen = ids.filter((id) => cards.has(id)).length;
  const now = Date.now() / 1000;
  const due = ids.filter((id) => cards.has(id) && cards.get(id).due <= now).length;
  return { topic_id: t.id, title: t.title, questions: ids.length, seen, due, retention: seen ? 0.87 : null };
}

const ANSWER =
  'Layer normalization normalises **over the features of each example** (all hidden units of a layer), not over the batch [1]. ' +
  'For a layer with $H$ units it computes\n\n$$\\mu = \\frac{1}{H}\\sum_{i=1}^{H} a_i, \\qquad \\sigma = \\sqrt{\\frac{1}{H}\\sum_{i=1}^{H}(a_i-\\mu)^2}$$\n\n' +
  'so it works the same at training and test time and with a batch of one [2]. ' +
  'Compare attention: $\\mathrm{softmax}(QK^\\top/\\sqrt{d_k})V$.\n\n```python\ny = (x - x.mean(-1, keepdim=True)) / x.std(-1, keepdim=True)\n```\n\nInjected: <img src=x onerror=alert(1)> [bad](javascript:alert(1))';

// ---- commands ----------------------------------------------------------------------------
async function run(command, args, emit) {
  switch (command) {
    case 'status':
      return { bank_indexed: bankIndexed, questions: 40, docs: docs.length, llm: { mode: 'not started', detail: 'starts with the first question' }, data_dir: '/tmp/mock-data', version: '0.1.0-mock' };
    case 'index_bank':
      for (let done = 0; done <= 40; done += 4) {
        emit({ kind: 'progress', file: 'question bank', stage: 'chunks', done, total: 40 });
        await sleep(120);
      }
      bankIndexed = true;
      return { indexed: true };
    case 'topics':
      return topics.map(topicProgress);
    case 'topic': {
      const t = topics.find((x) => x.id === args.topic_id);
      if (!t) throw new Error(`no topic with id "${args.topic_id}" (ids look like "t03")`);
      const now = Date.now() / 1000;
      return { id: t.id, title: t.title, questions: t.questions.map((q) => ({ ...q, seen: cards.has(q.id), due: cards.has(q.id) && cards.get(q.id).due <= now })) };
    }
    case 'question': {
      const found = findQuestion(args.question_id);
      if (!found) throw new Error(`no question with id "${args.question_id}"`);
      return { question: found.q, topic_title: found.t.title, related: [docHit(1, 'We compute the layer normalization statistics over all the hidden units in the same layer as follows: $\\mu^l = \\frac{1}{H}\\sum a_i^l$', 2), docHit(2, 'Unlike batch normalization, layer normalization performs exactly the same computation at training and test times.', 3)].filter(Boolean) };
    }
    case 'search': {
      const all = topics.flatMap((t) => t.questions);
      return all.filter((q) => q.text.includes(args.query) || q.text.toLowerCase().includes(String(args.query).toLowerCase().slice(0, 4))).slice(0, args.top_k ?? 10).map((q, i) => bankHit(i + 1, q));
    }
    case 'ask':
    case 'explain': {
      const q = command === 'explain' ? findQuestion(args.question_id)?.q : topics[0].questions[0];
      const context = citations([docHit(1, 'We compute the layer normalization statistics over all the hidden units in the same layer.', 2) ?? bankHit(1, topics[0].questions[1]), bankHit(2, q ?? topics[0].questions[0]), bankHit(3, topics[0].questions[2])]);
      for (const piece of ANSWER.match(/\S+\s*/g)) {
        emit({ kind: 'token', text: piece });
        await sleep(15);
      }
      const answer = { text: ANSWER, context, citations: context.slice(0, 2), dropped_citations: [], query: args.question ?? q?.text ?? '', generated: true };
      let conv = conversations.find((c) => c.id === args.conversation_id);
      if (!conv) {
        conv = { id: conversations.length + 1, topic_id: args.topic_id ?? null, title: (args.question ?? `Explain ${args.question_id}`).slice(0, 80), messages: [], created_at: new Date().toISOString().slice(0, 19).replace('T', ' ') };
        conversations.push(conv);
      }
      conv.messages.push({ role: 'user', content: args.question ?? `Explain ${args.question_id}`, citations: [], created_at: conv.created_at });
      conv.messages.push({ role: 'assistant', content: ANSWER, citations: answer.citations, created_at: conv.created_at });
      return { answer, conversation_id: conv.id };
    }
    case 'conversations':
      return conversations.map(({ messages, ...c }) => ({ ...c, messages: messages.length }));
    case 'conversation': {
      const c = conversations.find((x) => x.id === args.id);
      if (!c) throw new Error(`no conversation ${args.id}`);
      const { messages, ...summary } = c;
      return { summary: { ...summary, messages: messages.length }, messages };
    }
    case 'export_conversation': {
      const c = conversations.find((x) => x.id === args.id);
      if (!c) throw new Error(`no conversation ${args.id}`);
      return { markdown: `# ${c.title}\n\n${c.messages.map((m) => `**${m.role}**: ${m.content}`).join('\n\n')}\n` };
    }
    case 'docs':
      return docs;
    case 'import_file': {
      const bytes = Buffer.from(args.data_base64, 'base64');
      if (!/\.(pdf|md|markdown|txt)$/i.test(args.name)) throw new Error(`${args.name}: not a PDF, Markdown or text file`);
      if (args.name.endsWith('.pdf') && bytes.subarray(0, 4).toString() !== '%PDF') throw new Error(`${args.name}: not a PDF (no %PDF header)`);
      emit({ kind: 'progress', file: args.name, stage: 'file', index: 0, total: 1 });
      await sleep(300);
      const pages = args.name.endsWith('.pdf') ? 9 : null;
      emit({ kind: 'progress', file: args.name, stage: 'extracted', pages, chunks: 30, total: 30, done: 0 });
      for (let done = 0; done <= 30; done += 5) {
        emit({ kind: 'progress', file: args.name, stage: 'chunks', done, total: 30 });
        await sleep(150);
      }
      const id = crypto.createHash('sha256').update(bytes).digest('hex');
      const doc = { id, file_name: args.name, path: `/tmp/mock-data/files/${args.name}`, kind: args.name.endsWith('.pdf') ? 'pdf' : args.name.endsWith('.txt') ? 'text' : 'markdown', title: args.name.endsWith('.pdf') ? 'Layer Normalization' : args.name, pages, chunks: 30, ready: true, index_key: 'mock', imported_at: new Date().toISOString().slice(0, 19).replace('T', ' ') };
      const i = docs.findIndex((d) => d.id === id);
      if (i >= 0) docs[i] = doc;
      else docs.push(doc);
      return { doc };
    }
    case 'remove_doc': {
      const i = docs.findIndex((d) => d.id === args.doc_id);
      if (i < 0) throw new Error(`no document ${args.doc_id}`);
      return { doc: docs.splice(i, 1)[0] };
    }
    case 'reindex_doc': {
      const doc = docs.find((d) => d.id === args.doc_id);
      if (!doc) throw new Error(`no document ${args.doc_id}`);
      for (let done = 0; done <= 30; done += 10) {
        emit({ kind: 'progress', file: doc.file_name, stage: 'chunks', done, total: 30 });
        await sleep(200);
      }
      return { doc };
    }
    case 'page_image': {
      const doc = docs.find((d) => d.id === args.doc_id);
      if (!doc) throw new Error(`no document ${args.doc_id}`);
      const { png, w, h } = pagePng(args.page);
      const highlights = args.highlight ? [{ x: 100 / w, y: 296 / h, w: 650 / w, h: 12 / h }, { x: 100 / w, y: 318 / h, w: 600 / w, h: 12 / h }] : [];
      return { page: args.page, pages: doc.pages, png_base64: png.toString('base64'), width: w, height: h, highlights, doc: doc.file_name };
    }
    case 'quiz_session': {
      const chosen = args.topics?.length ? topics.filter((t) => args.topics.includes(t.id)) : topics;
      const fresh = chosen.flatMap((t) => t.questions.map((q) => ({ q, t }))).filter(({ q }) => !cards.has(q.id)).slice(0, args.new_cards ?? 10);
      return fresh.map(({ q, t }) => ({ id: q.id, kind: 'bank', topic_id: t.id, topic_title: t.title, question: q.text, points: q.points, reference_answer: null, source: null, state: null, preview: [0.00694, 0.5, 1.2, 3.4] }));
    }
    case 'grade':
      await sleep(600);
      return {
        score: args.self_grade ? null : 3,
        correct: args.self_grade ? [] : ['normalises per example over features'],
        missed: args.self_grade ? [] : ['learnable gain $\\gamma$ and bias $\\beta$'],
        wrong: [],
        model_answer: 'LayerNorm normalises each example over its features [1], with learnable $\\gamma$, $\\beta$ [2].',
        sources: citations([bankHit(1, topics[0].questions[0]), docHit(2, 'We compute the layer normalization statistics over all the hidden units.', 2)]),
        dropped_citations: [],
        suggested: args.self_grade ? null : 'good',
      };
    case 'review': {
      const now = Math.floor(Date.now() / 1000);
      const days = { again: 0.007, hard: 0.5, good: 1.2, easy: 3.4 }[args.rating];
      const state = { stability: days, difficulty: 5, due: now + Math.round(days * 86400), last_review: now, reps: 1, lapses: 0 };
      cards.set(args.card_id, state);
      return state;
    }
    case 'stats': {
      const today = new Date();
      const day = (offset) => new Date(today.getTime() + offset * 86400000).toISOString().slice(0, 10);
      const history = Array.from({ length: 30 }, (_, i) => {
        const count = i % 3 === 0 ? 0 : (i * 7) % 13;
        return { day: day(i - 29), count, recalled: Math.round(count * 0.8) };
      });
      const progress = topics.map(topicProgress);
      const total = progress.reduce((a, p) => ({ ...a, questions: a.questions + p.questions, seen: a.seen + p.seen, due: a.due + p.due }), { topic_id: 'total', title: 'Total', questions: 0, seen: 0, due: 0, retention: 0.86 });
      return { topics: progress, total, reviews: history.reduce((n, d) => n + d.count, 0), forecast: Array.from({ length: 7 }, (_, i) => ({ day: day(i), count: [4, 2, 0, 5, 1, 3, 2][i], recalled: 0 })), history, desired_retention: 0.9, parameters: 'default' };
    }
    case 'generate': {
      emit({ kind: 'generate', event: { event: 'started', candidates: 6 } });
      const kept = [];
      const dropped = [];
      for (let i = 0; i < 4; i++) {
        await sleep(300);
        if (i === 2) {
          const d = { question: 'What is 2+2?', answer: '4', page: 1, reason: 'the answer is not in the passage' };
          dropped.push(d);
          emit({ kind: 'generate', event: { event: 'dropped', dropped: d } });
        } else {
          const q = { id: `g-${i}`, doc_id: args.doc_id, doc: 'paper.pdf', page: i + 1, question: `Why does LayerNorm not depend on the batch size? (${i})`, answer: 'Its statistics are computed per example.', passage: '…', lang: 'en', created_at: 0, edited: false };
          kept.push(q);
          emit({ kind: 'generate', event: { event: 'kept', question: q } });
        }
      }
      return { doc: 'paper.pdf', kept, dropped };
    }
    case 'generated':
      return [];
    case 'settings':
      return { config: mockConfig, api_key_stored: false };
    case 'save_settings':
      if (args.api_key) throw new Error('StudyDesk does not store API keys itself yet: put the key in an environment variable and give its name as the API key variable');
      mockConfig = args.config;
      return { config: mockConfig, api_key_stored: Boolean(mockConfig.llm.api_key_env) };
    default:
      throw new Error(`unknown command "${command}"`);
  }
}

let mockConfig = { language: 'en', llm: { enabled: true, base_url: null, model: null, api_key_env: null, timeout_seconds: 120 }, quiz: { desired_retention: 0.9, new_cards: 10 } };

// ---- HTTP --------------------------------------------------------------------------------
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.png': 'image/png', '.svg': 'image/svg+xml' };

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'POST' && url.pathname.startsWith('/api/call/')) {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end('{"error":"missing or wrong token"}');
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString() || '{}';
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    const emit = (e) => res.write(`data: ${JSON.stringify(e)}\n\n`);
    try {
      const result = await run(decodeURIComponent(url.pathname.slice('/api/call/'.length)), JSON.parse(body), emit);
      emit({ kind: 'done', result });
    } catch (e) {
      emit({ kind: 'error', message: e.message });
    }
    res.end();
    return;
  }
  const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
  const file = path.join(dist, rel);
  if (!file.startsWith(dist) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404);
    res.end('not found');
    return;
  }
  res.writeHead(200, {
    'Content-Type': types[path.extname(file)] ?? 'application/octet-stream',
    'Content-Security-Policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  });
  fs.createReadStream(file).pipe(res);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`StudyDesk mock is serving on http://127.0.0.1:${server.address().port}/#token=${token}`);
});
