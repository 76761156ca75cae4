// Imports run one file after another; each has its own progress, kept across screens.

import { call, errorMessage } from '../api';
import type { DocRecord, ProgressEvent } from '../types';
import { app, loadDocs, loadStatus } from './state.svelte';

export interface ImportJob {
  id: number;
  name: string;
  size: number;
  state: 'waiting' | 'reading' | 'running' | 'done' | 'error';
  pages: number | null;
  chunks: number | null;
  /** OCR of the pages without a text layer: page `done + 1` of `total` is being read. */
  ocr: { done: number; total: number } | null;
  done: number;
  total: number;
  error: string | null;
  doc: DocRecord | null;
}

let nextId = 1;
let running = false;
const queue: { job: ImportJob; file: File }[] = [];

export const library = $state({
  jobs: [] as ImportJob[],
  /** doc id → what is going on with that document (re-index). */
  busy: {} as Record<string, { done: number; total: number; error: string | null }>,
});

export const ACCEPT = '.pdf,.png,.jpg,.jpeg,.md,.markdown,.txt';

export function acceptable(file: File): boolean {
  return /\.(pdf|png|jpe?g|md|markdown|txt)$/i.test(file.name);
}

export function importFiles(files: Iterable<File>): void {
  for (const file of files) {
    library.jobs.unshift({
      id: nextId++,
      name: file.name,
      size: file.size,
      state: 'waiting',
      pages: null,
      chunks: null,
      ocr: null,
      done: 0,
      total: 0,
      error: null,
      doc: null,
    });
    // The proxied job, so that progress updates reach the page.
    queue.push({ job: library.jobs[0], file });
  }
  void drain();
}

export function dismiss(id: number): void {
  library.jobs = library.jobs.filter((j) => j.id !== id);
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (let next = queue.shift(); next; next = queue.shift()) {
      await runImport(next.job, next.file);
    }
  } finally {
    running = false;
  }
}

function onProgress(job: {
  pages: number | null;
  chunks: number | null;
  ocr?: { done: number; total: number } | null;
  done: number;
  total: number;
}) {
  return (event: ProgressEvent) => {
    if (event.stage === 'ocr') {
      job.ocr = { done: event.done ?? 0, total: event.total ?? 0 };
    } else if (event.stage === 'extracted') {
      job.ocr = null;
      job.pages = event.pages ?? null;
      job.chunks = event.chunks ?? null;
      job.total = event.chunks ?? job.total;
    } else if (event.stage === 'chunks') {
      job.done = event.done ?? job.done;
      job.total = event.total ?? job.total;
    }
  };
}

async function runImport(job: ImportJob, file: File): Promise<void> {
  job.state = 'reading';
  let data: string;
  try {
    data = await readBase64(file);
  } catch (e) {
    job.state = 'error';
    job.error = `${file.name}: ${errorMessage(e)}`;
    return;
  }
  job.state = 'running';
  const progress = onProgress(job);
  try {
    const result = await call('import_file', { name: file.name, data_base64: data }, (event) => {
      if (event.kind === 'progress') progress(event);
    });
    job.doc = result.doc;
    job.pages = result.doc.pages ?? job.pages;
    job.chunks = result.doc.chunks;
    job.done = job.total = result.doc.chunks;
    job.state = 'done';
  } catch (e) {
    job.state = 'error';
    job.error = errorMessage(e);
  }
  await Promise.all([loadDocs().catch(() => undefined), loadStatus()]);
}

export function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error('cannot read the file'));
    reader.onload = () => {
      const url = String(reader.result ?? '');
      const comma = url.indexOf(',');
      resolve(comma >= 0 ? url.slice(comma + 1) : '');
    };
    reader.readAsDataURL(file);
  });
}

export async function reindex(doc: DocRecord): Promise<void> {
  library.busy[doc.id] = { done: 0, total: doc.chunks, error: null };
  const live = library.busy[doc.id];
  try {
    await call('reindex_doc', { doc_id: doc.id }, (event) => {
      if (event.kind !== 'progress') return;
      if (event.stage === 'chunks') {
        live.done = event.done ?? live.done;
        live.total = event.total ?? live.total;
      } else if (event.stage === 'extracted' && event.chunks) {
        live.total = event.chunks;
      }
    });
    delete library.busy[doc.id];
  } catch (e) {
    live.error = errorMessage(e);
  }
  await loadDocs().catch(() => undefined);
}

export async function remove(doc: DocRecord): Promise<void> {
  await call('remove_doc', { doc_id: doc.id });
  app.docs = app.docs.filter((d) => d.id !== doc.id);
  await Promise.all([loadDocs().catch(() => undefined), loadStatus()]);
}
