// Types of the UI ↔ core protocol (ui/PROTOCOL.md). Every protocol type, the command table
// included, is generated from the Rust types by ts-rs into src/bindings/ (regenerated from
// Rust: do not edit them); this file re-exports them and adds only what has no Rust
// counterpart: the event-stream envelope.

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
export type { ErrorKind } from './bindings/ErrorKind';
export type { ErrorView } from './bindings/ErrorView';
export type { ImportReport } from './bindings/ImportReport';
export type { ImportedFile } from './bindings/ImportedFile';
export type { ModelPlan } from './bindings/ModelPlan';
export type { Remedy } from './bindings/Remedy';
export type { Stage } from './bindings/Stage';
export type { Tier } from './bindings/Tier';
export type { TierChoice } from './bindings/TierChoice';
export type { Event } from './bindings/Event';
export type { GenerateEvent } from './bindings/GenerateEvent';
export type { GenerateReport } from './bindings/GenerateReport';
export type { GeneratedQuestion } from './bindings/GeneratedQuestion';
export type { Grading } from './bindings/Grading';
export type { IndexResult } from './bindings/IndexResult';
export type { Interview } from './bindings/Interview';
export type { InterviewSummary } from './bindings/InterviewSummary';
export type { Debrief } from './bindings/Debrief';
export type { Mistake } from './bindings/Mistake';
export type { Plan } from './bindings/Plan';
export type { Turn } from './bindings/Turn';
export type { WeakQuestion } from './bindings/WeakQuestion';
export type { Lang } from './bindings/Lang';
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

import type { ErrorView } from './bindings/ErrorView';
import type { Event } from './bindings/Event';

/** A progress event (import and indexing). */
export type ProgressEvent = Extract<Event, { kind: 'progress' }>;

/** How a call's stream ends (the transport's envelope, not a Rust type). */
export type EndEvent = { kind: 'done'; result: unknown } | { kind: 'error'; error: ErrorView };

/** Anything a call's event stream carries. */
export type StreamEvent = Event | EndEvent;

export type { Commands } from './bindings/Commands';
import type { Commands } from './bindings/Commands';

export type Command = keyof Commands;
