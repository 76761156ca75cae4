// The one interface to the core (PROTOCOL.md): call(command, args, onEvent, {signal}).
// Browser: POST /api/call/<command>, answer streamed as server-sent events; aborting the
// request cancels the command in the core (the model stops generating).
// Tauri: invoke('call', {command, args, callId, events: Channel}); aborting sends
// invoke('cancel', {callId}).

import type { Command, Commands, ErrorView, Event, Remedy, StreamEvent } from './types';

export type ApiErrorKind = 'unauthorized' | 'unreachable' | 'core' | 'protocol' | 'aborted';

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly command: string;
  readonly status?: number;
  /** The core's own account of a failure: its kind (input, setup, model…) and remedy. */
  readonly core?: ErrorView;

  constructor(kind: ApiErrorKind, command: string, message: string, status?: number, core?: ErrorView) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.command = command;
    this.status = status;
    this.core = core;
  }
}

export type EventHandler = (event: Event) => void;

export interface CallOptions {
  signal?: AbortSignal;
}

/** Connection problems (401, unreachable) are reported here as well as thrown, so the app can
 * show one clear banner whatever screen made the call. */
type ConnectionListener = (error: ApiError | null) => void;
const connectionListeners = new Set<ConnectionListener>();

export function onConnectionChange(listener: ConnectionListener): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}

function reportConnection(error: ApiError | null): void {
  for (const listener of connectionListeners) listener(error);
}

export function isTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

const TOKEN_KEY = 'studydesk.token';

/** The token from `#token=…` (moved to sessionStorage and out of the address bar), or the
 * one kept from earlier in this tab. */
export function token(): string | null {
  const hash = typeof location !== 'undefined' ? location.hash : '';
  const match = /(?:^#|&)token=([^&]+)/.exec(hash);
  if (match) {
    const value = decodeURIComponent(match[1]);
    try {
      sessionStorage.setItem(TOKEN_KEY, value);
      history.replaceState(null, '', location.pathname + location.search);
    } catch {
      // storage unavailable: keep using the hash
    }
    return value;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export async function call<C extends Command>(
  command: C,
  args: Commands[C]['args'],
  onEvent?: EventHandler,
  options: CallOptions = {},
): Promise<Commands[C]['result']> {
  const result = isTauri()
    ? await callTauri(command, args, onEvent, options)
    : await callHttp(command, args, onEvent, options);
  return result as Commands[C]['result'];
}

let nextCallId = 1;

async function callTauri(
  command: string,
  args: unknown,
  onEvent: EventHandler | undefined,
  options: CallOptions,
): Promise<unknown> {
  const { invoke, Channel } = await import('@tauri-apps/api/core');
  const callId = nextCallId++;
  const events = new Channel<Event>();
  events.onmessage = (event) => onEvent?.(event);
  const abort = () => void invoke('cancel', { callId }).catch(() => undefined);
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    return await invoke('call', { command, args, callId, events });
  } catch (e) {
    if (options.signal?.aborted) throw new ApiError('aborted', command, 'cancelled');
    if (isErrorView(e)) throw new ApiError('core', command, e.message, undefined, e);
    const message = typeof e === 'string' ? e : e instanceof Error ? e.message : JSON.stringify(e);
    throw new ApiError('core', command, message);
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}

function isErrorView(value: unknown): value is ErrorView {
  return typeof value === 'object' && value !== null && 'kind' in value && 'message' in value;
}

async function callHttp(
  command: string,
  args: unknown,
  onEvent: EventHandler | undefined,
  options: CallOptions,
): Promise<unknown> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'text/event-stream',
  };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let response: Response;
  try {
    response = await fetch(`/api/call/${encodeURIComponent(command)}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(args ?? {}),
      signal: options.signal,
    });
  } catch (e) {
    if (options.signal?.aborted) throw new ApiError('aborted', command, 'cancelled');
    const error = new ApiError(
      'unreachable',
      command,
      `cannot reach the StudyDesk core at ${location.origin} (${e instanceof Error ? e.message : String(e)})`,
    );
    reportConnection(error);
    throw error;
  }
  if (response.status === 401) {
    const error = new ApiError(
      'unauthorized',
      command,
      'the core refused the access token (HTTP 401)',
      401,
    );
    reportConnection(error);
    throw error;
  }
  reportConnection(null);
  if (!response.ok && !isEventStream(response)) {
    const body = await response.text().catch(() => '');
    throw new ApiError(
      'core',
      command,
      `${command}: HTTP ${response.status}${body ? `: ${body.slice(0, 500)}` : ''}`,
      response.status,
    );
  }
  if (!response.body) throw new ApiError('protocol', command, `${command}: empty response`);
  return readEvents(command, response.body, onEvent, options.signal);
}

function isEventStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').includes('text/event-stream');
}

/** Reads `data: <json>` events until `done` (resolve) or `error` (reject). */
export async function readEvents(
  command: string,
  body: ReadableStream<Uint8Array>,
  onEvent?: EventHandler,
  signal?: AbortSignal,
): Promise<unknown> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const abort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', abort, { once: true });
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (signal?.aborted) throw new ApiError('aborted', command, 'cancelled');
        const error = new ApiError(
          'unreachable',
          command,
          `${command}: the connection to the core broke off (${e instanceof Error ? e.message : String(e)})`,
        );
        throw error;
      }
      if (chunk.value) buffer += decoder.decode(chunk.value, { stream: !chunk.done });
      if (chunk.done) buffer += '\n\n';
      buffer = buffer.replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
          .join('\n');
        if (!data) continue;
        let event: StreamEvent;
        try {
          event = JSON.parse(data) as StreamEvent;
        } catch {
          throw new ApiError('protocol', command, `${command}: unreadable event ${data.slice(0, 200)}`);
        }
        if (event.kind === 'done') return event.result;
        if (event.kind === 'error') throw new ApiError('core', command, event.error.message, undefined, event.error);
        onEvent?.(event);
      }
      if (chunk.done) {
        if (signal?.aborted) throw new ApiError('aborted', command, 'cancelled');
        throw new ApiError('protocol', command, `${command}: the answer stream ended before it finished`);
      }
    }
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

/** What to show for a failed call: the core's message, and the fix when it names one. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError && e.core?.remedy) return `${e.message} — ${remedyText(e.core.remedy)}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

let remedyText: (remedy: Remedy) => string = (remedy) => remedy;

/** Lets the UI word remedies in the reader's language (set once by i18n). */
export function setRemedyText(word: (remedy: Remedy) => string): void {
  remedyText = word;
}
