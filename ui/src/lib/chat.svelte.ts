// The chat panel's state: the open conversation, streamed answers, the conversation list.

import { call, errorMessage } from '../api';
import type { Answer, AskResult, Citation, ConversationSummary, Event, SearchHit } from '../types';
import { app, loadStatus } from './state.svelte';

export interface ChatMessage {
  id: number;
  role: 'user' | 'assistant';
  text: string;
  streaming: boolean;
  /** Numbered passages the [n] in the text refer to. */
  context: Citation[];
  /** The passages the answer cites (or, without generation, the best passages). */
  sources: Citation[];
  generated: boolean;
  /** The answer cited nothing: `sources` are the passages it was written from. */
  uncited: boolean;
  dropped: number[];
  /** Bank questions near the question: what an interviewer asks around it. */
  related: SearchHit[];
  error: string | null;
}

let nextId = 1;

export const chat = $state({
  conversationId: null as number | null,
  topicId: null as string | null,
  title: '',
  messages: [] as ChatMessage[],
  busy: false,
  draft: '',
  conversations: [] as ConversationSummary[],
  showList: false,
  listError: null as string | null,
  focusSignal: 0,
});

let controller: AbortController | null = null;

function message(role: 'user' | 'assistant', text: string): ChatMessage {
  return {
    id: nextId++,
    role,
    text,
    streaming: false,
    context: [],
    sources: [],
    generated: true,
    uncited: false,
    dropped: [],
    related: [],
    error: null,
  };
}

function finish(target: ChatMessage, answer: Answer): void {
  target.streaming = false;
  target.generated = answer.generated;
  // Without a model the text is the quoted sentences of the sources.
  target.text = answer.text;
  target.context = answer.context;
  target.sources = answer.citations.length ? answer.citations : answer.context;
  target.uncited = answer.generated && answer.citations.length === 0;
  target.dropped = answer.dropped_citations;
  target.related = answer.related;
}

/** Whether the text has an [n] for one of the citations. */
function citesAny(text: string, citations: Citation[]): boolean {
  const numbers = new Set(citations.map((c) => c.n));
  for (const match of text.matchAll(/\[(\d{1,3})\](?!\()/g)) {
    if (numbers.has(Number(match[1]))) return true;
  }
  return false;
}

async function stream(
  userText: string,
  run: (onEvent: (event: Event) => void, signal: AbortSignal) => Promise<AskResult>,
): Promise<void> {
  if (chat.busy) return;
  app.chatOpen = true;
  chat.busy = true;
  chat.messages.push(message('user', userText));
  chat.messages.push({ ...message('assistant', ''), streaming: true });
  // Work on the proxied copy in the array so that updates are reactive.
  const target = chat.messages[chat.messages.length - 1];
  controller = new AbortController();
  try {
    const result = await run((event) => {
      // The passages come first, before the model has read them.
      if (event.kind === 'sources') {
        target.context = event.context;
        target.sources = event.context;
      } else if (event.kind === 'token') {
        target.text += event.text;
      }
    }, controller.signal);
    finish(target, result.answer);
    chat.conversationId = result.conversation_id;
    void loadConversations();
    void loadStatus();
  } catch (e) {
    target.streaming = false;
    target.error = errorMessage(e);
    void loadStatus();
  } finally {
    chat.busy = false;
    controller = null;
  }
}

export function ask(question: string): Promise<void> {
  const text = question.trim();
  if (!text) return Promise.resolve();
  chat.draft = '';
  return stream(text, (onEvent, signal) =>
    call(
      'ask',
      {
        question: text,
        ...(chat.topicId ? { topic_id: chat.topicId } : {}),
        ...(chat.conversationId != null ? { conversation_id: chat.conversationId } : {}),
      },
      onEvent,
      { signal },
    ),
  );
}

/** Explains a bank question in a new conversation. */
export function explain(questionId: string, label: string): Promise<void> {
  newConversation();
  chat.topicId = questionId.split('-')[0] ?? null;
  return stream(label, (onEvent, signal) =>
    call(
      'explain',
      { question_id: questionId },
      onEvent,
      { signal },
    ),
  );
}

export function stop(): void {
  controller?.abort();
}

/** Puts a question in the input box, to ask in a new conversation about one topic. */
export function askAbout(text: string, topicId: string | null): void {
  if (chat.messages.length && !chat.busy) newConversation();
  chat.topicId = topicId;
  chat.draft = text;
  app.chatOpen = true;
  chat.focusSignal++;
}

export function newConversation(): void {
  if (chat.busy) return;
  chat.conversationId = null;
  chat.topicId = null;
  chat.title = '';
  chat.messages = [];
  chat.showList = false;
}

export async function loadConversations(): Promise<void> {
  try {
    chat.conversations = await call('conversations', {});
    chat.listError = null;
  } catch (e) {
    chat.listError = errorMessage(e);
  }
}

export async function openConversation(id: number): Promise<void> {
  if (chat.busy) return;
  try {
    const detail = await call('conversation', { id });
    chat.conversationId = detail.summary.id;
    chat.topicId = detail.summary.topic_id ?? null;
    chat.title = detail.summary.title;
    chat.messages = detail.messages.map((m) => {
      const role = m.role === 'user' ? 'user' : 'assistant';
      const generatedOff = role === 'assistant' && /^\(generation off/.test(m.content);
      return {
        ...message(role, generatedOff ? '' : m.content),
        context: m.citations,
        sources: m.citations,
        generated: !generatedOff,
        // The core keeps the cited passages, or, for an answer that cites none, the passages
        // it was written from.
        uncited: role === 'assistant' && !generatedOff && m.citations.length > 0 && !citesAny(m.content, m.citations),
      };
    });
    chat.showList = false;
  } catch (e) {
    chat.listError = errorMessage(e);
  }
}

/** Downloads the conversation as a Markdown file. */
export async function exportConversation(id: number, title: string): Promise<void> {
  const { markdown } = await call('export_conversation', { id });
  const blob = new Blob([markdown], { type: 'text/markdown;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  const slug = title
    .replace(/[\\/:*?"<>|\s]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  a.download = `studydesk-${id}${slug ? `-${slug}` : ''}.md`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
