// Type declarations for recuerdo-client (docs/api.md is the contract these follow).

export type Role = 'user' | 'assistant' | 'manual_operator' | 'system'

export type ContentType =
  | 'text'
  | 'image'
  | 'audio'
  | 'video'
  | 'document'
  | 'sticker'
  | 'location'
  | 'contact'
  | 'deleted'
  | 'other'

/** A time: a Date, or an ISO 8601 string with a timezone ("2025-01-31T14:00:00Z"). */
export type TimeInput = Date | string

export interface RecuerdoOptions {
  /** The server, e.g. "http://127.0.0.1:8080". */
  baseUrl: string
  /** An API key (`recuerdo keys create --scope bot`). */
  apiKey: string
  /** Time allowed for one attempt, in milliseconds. Default 10000. */
  timeoutMs?: number
  /** Extra attempts after a connection error, timeout, 429 or 5xx. Default 2. */
  retries?: number
  /** First backoff delay in milliseconds, doubled on each retry. Default 200. */
  retryDelayMs?: number
  /** Longest wait between two attempts, in milliseconds. Default 5000. */
  maxRetryDelayMs?: number
  /** A fetch implementation; default the global fetch. */
  fetch?: typeof fetch
}

export interface NewMessage {
  role: Role
  content: string
  /** When it was written; default: when the server receives it. */
  at?: TimeInput
  threadId?: string
  /** The provider's message id (e.g. WhatsApp's wamid). Generated (UUID) when absent. */
  externalId?: string
  contentType?: ContentType | string
  metadata?: Record<string, unknown>
  /** The client's WhatsApp profile name (pushName), if the message carries it. */
  profileName?: string
}

export interface NewBatchMessage extends NewMessage {
  /** Phone, WhatsApp JID, NNN@lid or BSUID. */
  who: string
}

export interface Message {
  id: number | string
  client_id: number | string
  conversation_id: number | string
  thread_id: string | null
  /** ISO 8601, UTC. */
  at: string
  role: Role
  content: string
  content_type: string
  external_id: string | null
  metadata: Record<string, unknown>
}

export interface Recorded {
  /** False when the external id was already stored: the stored message is returned. */
  created: boolean
  message: Message
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export interface Handoff {
  paused: boolean
  by: string | null
  reason: string | null
  since: string | null
}

export interface Client {
  id: number | string
  tenant: string
  phone: string | null
  identifiers: string[]
  profile_name: string | null
  customer_name: string | null
  name: string | null
  thread_id: string | null
  thread_provider: string | null
  created_at: string
  last_interaction_at: string | null
  total_conversations: number
  total_messages: number
  tags: string[]
  attributes: Record<string, unknown>
  profile_summary: string | null
  handoff: Handoff
}

export interface Conversation {
  id: number | string
  client_id: number | string
  thread_id: string | null
  started_at: string
  last_message_at: string
  ended_at: string | null
  end_reason: string | null
  /** Messages per role: { user, assistant, manual_operator, system }. */
  counts: Record<string, number>
  handled_by: 'nobody' | 'bot' | 'operator' | 'both'
  summary: string | null
  summary_status: string | null
  outcome: string | null
  topics: string[]
}

export interface Thread {
  thread_id: string | null
  provider: string | null
}

export interface SavedThread extends Thread {
  client_id: number | string
}

/** GET /v1/clients/{who}/thread: `client_id` is null for a client recuerdo has never seen. */
export interface ThreadLookup extends Thread {
  client_id?: number | string | null
}

/** A commitment still open from past conversations (who promised what, by when). */
export interface Commitment {
  [field: string]: unknown
}

/** The returning-customer context (GET /v1/clients/{who}/context). */
export interface Context {
  /** True when the client's last interaction was more than N days ago (default 30). */
  is_returning: boolean
  /** False for a client recuerdo has never seen. */
  is_known: boolean
  days_since: number | null
  last_interaction_at: string | null
  customer_name: string | null
  /** Where the name comes from (operator, customer, WhatsApp profile). */
  name_source: string | null
  /** Ready-to-inject note for the LLM (the seed's `contextPrompt`); empty when not returning. */
  note: string
  profile_summary: string | null
  last_summary: string | null
  last_outcome: string | null
  open_commitments: Commitment[]
  relevant_messages: Message[]
  /** Messages to open a fresh LLM conversation when the old thread is gone. */
  rehydration_messages: Array<{ role: string; content: string }>
  tokens: number
  language: string
  /** What the token budget left out, least valuable first. */
  dropped: string[]
}

export interface SearchHit {
  /** message: a message matched; summary: a conversation's summary matched (then `message` is null). */
  kind: 'message' | 'summary'
  /** Higher is better; comparable within one answer only. */
  score: number
  /** The matching text, matched words marked « ». */
  snippet: string
  client_id: number | string
  conversation: Conversation
  message: Message | null
}

export interface ApiKey {
  id: number | string
  name: string
  scope: 'bot' | 'operator' | 'admin'
  /** The first characters of the key, to recognise it. */
  prefix?: string
  created_at?: string
  revoked_at?: string | null
}

export type ErrorCode =
  | 'invalid-identifier'
  | 'invalid-role'
  | 'invalid-content'
  | 'naive-datetime'
  | 'invalid-cursor'
  | 'client-not-found'
  | 'not-found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'payload-too-large'
  | 'invalid-json'
  | 'validation-error'
  | 'storage-error'
  /** No answer within timeoutMs. */
  | 'timeout'
  /** The server could not be reached, or the connection dropped. */
  | 'network-error'
  /** A 2xx answer whose body is not JSON. */
  | 'invalid-response'
  /** A bad argument, caught before any request was sent. */
  | 'invalid-argument'
  /** An error answer that is not problem+json: `http-<status>`. */
  | `http-${number}`

export class RecuerdoError extends Error {
  name: 'RecuerdoError'
  /** HTTP status, or null when no HTTP answer came (timeout, network error, bad argument). */
  status: number | null
  code: ErrorCode | string
  title: string | null
  detail: string | null
  type: string | null
  /** The call that failed, with phone numbers masked (573*****251). */
  method: string | null
  path: string | null
  /** How many attempts were made. */
  attempts: number
  /** The problem+json object, or the raw text of a non-JSON answer. */
  body: unknown
  /** The server's Retry-After, in milliseconds, when it sent one. */
  retryAfterMs?: number
  /** Whether the same call may succeed later (timeout, network error, 429, 5xx). */
  readonly retryable: boolean
}

export class Recuerdo {
  constructor(options: RecuerdoOptions)
  readonly baseUrl: string
  timeoutMs: number
  retries: number
  retryDelayMs: number
  maxRetryDelayMs: number

  saveThreadId(who: string, threadId: string, options?: { provider?: string }): Promise<SavedThread>
  getThreadId(who: string): Promise<string | null>
  getThread(who: string): Promise<ThreadLookup>

  recordMessage(who: string, message: NewMessage): Promise<Recorded>
  recordBatch(messages: NewBatchMessage[]): Promise<{ results: Recorded[] }>
  history(
    who: string,
    options?: { limit?: number; before?: string; conversationId?: number | string; role?: Role | Role[] },
  ): Promise<Page<Message>>

  client(who: string): Promise<Client>
  updateClient(
    who: string,
    changes: {
      customerName?: string | null
      addTags?: string[]
      removeTags?: string[]
      attributes?: Record<string, unknown>
    },
  ): Promise<Client>
  clients(options?: { tag?: string; name?: string; activeSince?: TimeInput; limit?: number; cursor?: string }): Promise<Page<Client>>
  conversations(who: string, options?: { limit?: number; cursor?: string }): Promise<Page<Conversation>>

  pauseBot(who: string, options: { by: string; reason?: string | null }): Promise<Handoff>
  resumeBot(who: string): Promise<Handoff>
  handoff(who: string): Promise<Handoff>
  botPaused(who: string): Promise<boolean>

  context(who: string, text?: string, options?: { lang?: 'es' | 'en' | string }): Promise<Context>
  search(
    q: string,
    options?: { who?: string; limit?: number; since?: TimeInput; until?: TimeInput; role?: Role | Role[] },
  ): Promise<{ items: SearchHit[] }>

  createKey(options: { name: string; scope: 'bot' | 'operator' | 'admin' }): Promise<{ id: number | string; key: string; scope: 'bot' | 'operator' | 'admin'; name: string }>
  listKeys(): Promise<{ items: ApiKey[] }>
  revokeKey(id: number | string): Promise<void>

  health(): Promise<{ status: string }>
  ready(): Promise<{ status: string }>
}

/** Masks the middle digits of phone numbers in a path: /v1/clients/573*****251. */
export function maskPath(path: string): string
