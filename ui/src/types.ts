// Types of the UI ↔ core protocol (ui/PROTOCOL.md), written by hand until ts-rs generates
// them into src/bindings/. Names and fields follow the Rust structs (snake_case), so each
// can later be replaced by `export type { X } from './bindings/X'`. Optional Rust fields are
// typed `?: T | null`: serde skips them when empty, ts-rs spells them `T | null`.

export type Source = 'bank' | 'doc';

export interface SearchHit {
  rank: number;
  score: number;
  source: Source;
  question_id?: string | null;
  topic_id?: string | null;
  doc?: string | null;
  doc_id?: string | null;
  page?: number | null;
  section?: string | null;
  text: string;
}

export interface Citation {
  n: number;
  label: string;
  hit: SearchHit;
}

export interface Answer {
  text: string;
  context: Citation[];
  citations: Citation[];
  dropped_citations: number[];
  query: string;
  generated: boolean;
}

export interface AnswerResult {
  answer: Answer;
  conversation_id: number;
}

/** The core also reports 'not started' before the first question connects the model. */
export type LlmMode = 'local' | 'remote' | 'off' | 'not started';

export interface Status {
  bank_indexed: boolean;
  questions: number;
  docs: number;
  llm: { mode: LlmMode; detail: string };
  data_dir: string;
  version: string;
}

export interface TopicSummary {
  /** PROTOCOL.md says `id`; the core currently sends TopicProgress's `topic_id` (both read). */
  id: string;
  topic_id?: string;
  title: string;
  questions: number;
  seen: number;
  due: number;
  /** Mean predicted recall of the seen cards, 0–1; null before any review. */
  retention?: number | null;
}

export interface TopicQuestion {
  id: string;
  number: number;
  subsection?: string | null;
  text: string;
  points: string[];
  seen: boolean | number;
  due: boolean | number;
}

export interface TopicDetail {
  id: string;
  title: string;
  questions: TopicQuestion[];
}

export interface Question {
  id: string;
  topic_id: string;
  number: number;
  subsection?: string | null;
  text: string;
  points: string[];
}

export interface QuestionDetail {
  question: Question;
  topic_title: string;
  related: SearchHit[];
}

export interface ConversationSummary {
  id: number;
  topic_id?: string | null;
  title: string;
  messages: number;
  created_at: string;
}

export interface StoredMessage {
  role: string;
  content: string;
  citations: Citation[] | null;
  created_at: string;
}

export interface ConversationDetail {
  summary: ConversationSummary;
  messages: StoredMessage[];
}

export type DocKind = 'pdf' | 'markdown' | 'text';

export interface DocRecord {
  id: string;
  file_name: string;
  path: string;
  kind: DocKind;
  title: string;
  pages?: number | null;
  chunks: number;
  ready: boolean;
  index_key: string;
  imported_at: string;
}

export interface PageImage {
  page?: number;
  /** The document's page count. */
  pages?: number;
  doc?: string;
  png_base64: string;
  width: number;
  height: number;
  highlights: Rect[];
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type Rating = 'again' | 'hard' | 'good' | 'easy';
export type CardKind = 'bank' | 'generated';

export interface CardState {
  stability: number;
  difficulty: number;
  /** Unix seconds. */
  due: number;
  last_review: number;
  reps: number;
  lapses: number;
}

export interface GeneratedQuestion {
  id: string;
  doc_id: string;
  doc: string;
  page?: number | null;
  question: string;
  answer: string;
  passage: string;
  lang: string;
  created_at: number;
  edited: boolean;
}

export interface Card {
  id: string;
  kind: CardKind;
  topic_id?: string | null;
  topic_title?: string | null;
  question: string;
  points: string[];
  reference_answer?: string | null;
  source?: GeneratedQuestion | null;
  state?: CardState | null;
}

/** A card of a session, with the interval in days each rating would set. */
export type SessionCard = Card & { preview: [number, number, number, number] };

export interface Grading {
  score?: number | null;
  correct: string[];
  missed: string[];
  wrong: string[];
  model_answer: string;
  sources: Citation[];
  dropped_citations: number[];
  suggested?: Rating | null;
}

export interface TopicProgress {
  topic_id: string;
  title: string;
  questions: number;
  seen: number;
  due: number;
  retention?: number | null;
}

export interface DayCount {
  day: string;
  count: number;
  recalled: number;
}

export interface Stats {
  topics: TopicProgress[];
  total: TopicProgress;
  reviews: number;
  forecast: DayCount[];
  history: DayCount[];
  desired_retention: number;
  parameters: string;
}

export interface Dropped {
  question: string;
  answer: string;
  page?: number | null;
  reason: string;
}

export interface GenerateReport {
  doc: string;
  kept: GeneratedQuestion[];
  dropped: Dropped[];
}

export type Language = 'en' | 'zh';

export interface LlmConfig {
  enabled: boolean;
  base_url?: string | null;
  model?: string | null;
  api_key_env?: string | null;
  timeout_seconds: number;
}

export interface QuizConfig {
  desired_retention: number;
  new_cards: number;
}

export interface Config {
  language: Language;
  llm: LlmConfig;
  quiz: QuizConfig;
}

export interface SettingsResult {
  config: Config;
  api_key_stored: boolean;
}

// Events sent before the final result.

export interface TokenEvent {
  kind: 'token';
  text: string;
}

export interface ProgressEvent {
  kind: 'progress';
  file?: string;
  stage: 'file' | 'extracted' | 'chunks';
  index?: number;
  total?: number;
  done?: number;
  pages?: number | null;
  chunks?: number;
}

export type GenerateDetail =
  | { event: 'started'; candidates: number }
  | { event: 'kept'; question: GeneratedQuestion }
  | { event: 'dropped'; dropped: Dropped };

/** PROTOCOL.md flattens the detail into the event; the core currently nests it as
 * `{kind: 'generate', event: {event: 'kept', …}}`. `generateDetail()` reads both. */
export type GenerateEvent =
  | ({ kind: 'generate' } & GenerateDetail)
  | { kind: 'generate'; event: GenerateDetail };

export function generateDetail(e: GenerateEvent): GenerateDetail {
  return typeof e.event === 'object' ? e.event : (e as GenerateDetail);
}

export interface DoneEvent {
  kind: 'done';
  result: unknown;
}

export interface ErrorEvent {
  kind: 'error';
  message: string;
}

export type CoreEvent = TokenEvent | ProgressEvent | GenerateEvent | DoneEvent | ErrorEvent;

/** Arguments and results of each command, so `call` is typed by the command name. */
export interface Commands {
  status: { args: Record<string, never>; result: Status };
  index_bank: { args: Record<string, never>; result: { indexed: boolean } };
  topics: { args: Record<string, never>; result: TopicSummary[] };
  topic: { args: { topic_id: string }; result: TopicDetail };
  question: { args: { question_id: string }; result: QuestionDetail };
  search: {
    args: { query: string; top_k?: number; topic_id?: string; source?: Source };
    result: SearchHit[];
  };
  ask: {
    args: { question: string; topic_id?: string; conversation_id?: number };
    result: AnswerResult;
  };
  explain: { args: { question_id: string }; result: AnswerResult };
  conversations: { args: Record<string, never>; result: ConversationSummary[] };
  conversation: { args: { id: number }; result: ConversationDetail };
  export_conversation: { args: { id: number }; result: { markdown: string } };
  docs: { args: Record<string, never>; result: DocRecord[] };
  import_file: { args: { name: string; data_base64: string }; result: { doc: DocRecord } };
  remove_doc: { args: { doc_id: string }; result: { doc: DocRecord } };
  reindex_doc: { args: { doc_id: string }; result: { doc: DocRecord } };
  page_image: { args: { doc_id: string; page: number; highlight?: string }; result: PageImage };
  quiz_session: {
    args: { topics: string[]; new_cards?: number; due_only?: boolean };
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
  settings: { args: Record<string, never>; result: SettingsResult };
  save_settings: { args: { config: Config; api_key?: string }; result: SettingsResult };
}

export type Command = keyof Commands;
