// App-wide state: the current screen, what is open, the connection, first-run indexing.

import { ApiError, call, errorMessage, onConnectionChange } from '../api';
import type { DocRecord, SearchHit, Status, TopicProgress } from '../types';

export type View = 'topics' | 'library' | 'quiz' | 'interview' | 'stats' | 'settings';

export interface ViewerTarget {
  doc_id: string;
  /** null for a note without pages: the viewer shows the passage itself. */
  page: number | null;
  highlight?: string;
  label?: string;
}

export const app = $state({
  view: 'topics' as View,
  chatOpen: true,
  status: null as Status | null,
  statusError: null as string | null,
  connection: null as ApiError | null,
  indexing: { active: false, done: 0, total: 0, error: null as string | null },
  topics: [] as TopicProgress[],
  topicsLoaded: false,
  topicsError: null as string | null,
  selectedTopic: null as string | null,
  selectedQuestion: null as string | null,
  viewer: null as ViewerTarget | null,
  docs: [] as DocRecord[],
});

onConnectionChange((error) => {
  app.connection = error;
});

export async function loadStatus(): Promise<void> {
  try {
    app.status = await call('status', {});
    app.statusError = null;
  } catch (e) {
    app.statusError = errorMessage(e);
  }
}

export async function loadTopics(): Promise<void> {
  try {
    const topics = await call('topics', {});
    // Bank topics only (the core also counts generated questions as a pseudo-topic).
    app.topics = topics.filter((x) => x.topic_id !== 'generated');
    app.topicsError = null;
    app.topicsLoaded = true;
  } catch (e) {
    app.topicsError = errorMessage(e);
  }
}

export async function loadDocs(): Promise<void> {
  app.docs = await call('docs', {});
}

/** First run: the bank must be indexed before search and answers work. */
export async function ensureBankIndexed(): Promise<void> {
  if (!app.status || app.status.bank_indexed) return;
  app.indexing = { active: true, done: 0, total: app.status.questions || 0, error: null };
  try {
    await call('index_bank', {}, (event) => {
      if (event.kind !== 'progress') return;
      if (event.stage === 'chunks') {
        app.indexing.done = event.done ?? app.indexing.done;
        app.indexing.total = event.total ?? app.indexing.total;
      } else if (event.stage === 'extracted' && event.chunks) {
        app.indexing.total = event.chunks;
      }
    });
    app.indexing.active = false;
    await loadStatus();
  } catch (e) {
    app.indexing.active = false;
    app.indexing.error = errorMessage(e);
  }
}

export async function startup(): Promise<void> {
  await loadStatus();
  if (!app.status) return;
  const topics = loadTopics();
  await ensureBankIndexed();
  await topics;
  if (!app.topicsLoaded) await loadTopics();
}

export function go(view: View): void {
  app.view = view;
}

export function openTopic(topicId: string | null): void {
  app.view = 'topics';
  app.selectedTopic = topicId;
  app.selectedQuestion = null;
}

export function openQuestion(questionId: string, topicId?: string | null): void {
  app.view = 'topics';
  app.selectedTopic = topicId ?? questionId.split('-')[0] ?? null;
  app.selectedQuestion = questionId;
}

export function openPage(target: ViewerTarget): void {
  app.viewer = target;
}

/** Where a citation or search hit leads: a bank question, or a document's page. */
export function openSource(hit: SearchHit, label?: string): void {
  if (hit.question_id) {
    openQuestion(hit.question_id, hit.topic_id);
  } else if (hit.doc_id) {
    openPage({
      doc_id: hit.doc_id,
      page: hit.page ?? null,
      highlight: hit.text,
      label: label ?? hit.doc ?? '',
    });
  }
}

export function canOpen(hit: SearchHit): boolean {
  return Boolean(hit.question_id || hit.doc_id);
}
