// Types of the UI ↔ core protocol (ui/PROTOCOL.md). The protocol types are generated from the
// Rust structs by ts-rs into src/bindings/ (regenerated from Rust: do not edit them); this file
// re-exports them and adds only what has no Rust counterpart: the event-stream envelope and the
// command table that types `call` by command name.

export type { Answer } from './bindings/Answer';
export type { AskResult } from './bindings/AskResult';
export type { Card } from './bindings/Card';
export type { CardKind } from './bindings/CardKind';
export type { CardState } from './bindings/CardState';
export type { Citation } from './bindings/Citation';
export type { Config } from './bindings/Config';
export type { ConversationSummary } from './bindings/ConversationSummary';
export type { ConversationView } from './bindings/ConversationView';
export type { DayCount } from './bindings/DayCount';
export type { DocKind } from './bindings/DocKind';
export type { DocRecord } from './bindings/DocRecord';
export type { DocResult } from './bindings/DocResult';
export type { Dropped } from './bindings/Dropped';
export type { Event } from './bindings/Event';
export type { GenerateEvent } from './bindings/GenerateEvent';
export type { GenerateReport } from './bindings/GenerateReport';
export type { GeneratedQuestion } from './bindings/GeneratedQuestion';
export type { Grading } from './bindings/Grading';
export type { IndexResult } from './bindings/IndexResult';
export type { Language } from './bindings/Language';
export type { LlmConfig } from './bindings/LlmConfig';
export type { LlmStatus } from './bindings/LlmStatus';
export type { MarkdownExport } from './bindings/MarkdownExport';
export type { PageView } from './bindings/PageView';
export type { Question } from './bindings/Question';
export type { QuestionView } from './bindings/QuestionView';
export type { QuizConfig } from './bindings/QuizConfig';
export type { Rating } from './bindings/Rating';
export type { Rect } from './bindings/Rect';
export type { Role } from './bindings/Role';
export type { SearchHit } from './bindings/SearchHit';
export type { SessionCard } from './bindings/SessionCard';
export type { SettingsView } from './bindings/SettingsView';
export type { Source } from './bindings/Source';
export type { Stats } from './bindings/Stats';
export type { Status } from './bindings/Status';
export type { StoredMessage } from './bindings/StoredMessage';
export type { Topic } from './bindings/Topic';
export type { TopicProgress } from './bindings/TopicProgress';
export type { TopicQuestion } from './bindings/TopicQuestion';
export type { TopicView } from './bindings/TopicView';

import type { AskResult } from './bindings/AskResult';
import type { CardState } from './bindings/CardState';
import type { Config } from './bindings/Config';
import type { ConversationSummary } from './bindings/ConversationSummary';
import type { ConversationView } from './bindings/ConversationView';
import type { DocRecord } from './bindings/DocRecord';
import type { DocResult } from './bindings/DocResult';
import type { Event } from './bindings/Event';
import type { GenerateReport } from './bindings/GenerateReport';
import type { GeneratedQuestion } from './bindings/GeneratedQuestion';
import type { Grading } from './bindings/Grading';
import type { IndexResult } from './bindings/IndexResult';
import type { MarkdownExport } from './bindings/MarkdownExport';
import type { PageView } from './bindings/PageView';
import type { QuestionView } from './bindings/QuestionView';
import type { Rating } from './bindings/Rating';
import type { SearchHit } from './bindings/SearchHit';
import type { SessionCard } from './bindings/SessionCard';
import type { SettingsView } from './bindings/SettingsView';
import type { Source } from './bindings/Source';
import type { Stats } from './bindings/Stats';
import type { Status } from './bindings/Status';
import type { TopicProgress } from './bindings/TopicProgress';
import type { TopicView } from './bindings/TopicView';

/** A progress event (import and indexing). */
export type ProgressEvent = Extract<Event, { kind: 'progress' }>;

/** How a call's stream ends (the transport's envelope, not a Rust type). */
export type EndEvent = { kind: 'done'; result: unknown } | { kind: 'error'; message: string };

/** Anything a call's event stream carries. */
export type StreamEvent = Event | EndEvent;

/** Arguments and results of each command, so `call` is typed by the command name. The
 * argument objects are read by the core's command dispatcher and have no exported Rust type. */
export interface Commands {
  status: { args: Record<string, never>; result: Status };
  index_bank: { args: Record<string, never>; result: IndexResult };
  topics: { args: Record<string, never>; result: TopicProgress[] };
  topic: { args: { topic_id: string }; result: TopicView };
  question: { args: { question_id: string }; result: QuestionView };
  search: {
    args: { query: string; top_k?: number; topic_id?: string; source?: Source };
    result: SearchHit[];
  };
  ask: {
    args: { question: string; topic_id?: string; conversation_id?: number };
    result: AskResult;
  };
  explain: { args: { question_id: string }; result: AskResult };
  conversations: { args: Record<string, never>; result: ConversationSummary[] };
  conversation: { args: { id: number }; result: ConversationView };
  export_conversation: { args: { id: number }; result: MarkdownExport };
  docs: { args: Record<string, never>; result: DocRecord[] };
  import_file: { args: { name: string; data_base64: string }; result: DocResult };
  remove_doc: { args: { doc_id: string }; result: DocResult };
  reindex_doc: { args: { doc_id: string }; result: DocResult };
  page_image: { args: { doc_id: string; page: number; highlight?: string }; result: PageView };
  quiz_session: {
    args: { topics?: string[]; doc_id?: string; new_cards?: number; due_only?: boolean };
    result: SessionCard[];
  };
  grade: { args: { card_id: string; answer: string; self_grade?: boolean }; result: Grading };
  review: {
    args: {
      card_id: string;
      rating: Rating;
      grade?: number;
      answer: string;
      duration_ms?: number;
    };
    result: CardState;
  };
  stats: { args: Record<string, never>; result: Stats };
  generate: { args: { doc_id: string; count?: number; lang?: string }; result: GenerateReport };
  generated: { args: { doc_id?: string }; result: GeneratedQuestion[] };
  settings: { args: Record<string, never>; result: SettingsView };
  save_settings: { args: { config: Config; api_key?: string }; result: SettingsView };
}

export type Command = keyof Commands;
