// Type declarations for recuerdo-client/builderbot.

import type { Handoff, Message, Recuerdo, RecuerdoError, RecuerdoOptions } from './index.js'

export { Recuerdo, RecuerdoError } from './index.js'

/** BuilderBot's per-client state, as flows receive it (`{ state }`). */
export interface BotStateLike {
  update(props: Record<string, unknown>): Promise<void> | void
}

/** The flow methods a guard action uses. */
export interface FlowMethodsLike {
  endFlow(message?: string): unknown
}

/** A BuilderBot ctx: what providers emit and flows receive. */
export interface IncomingCtxLike {
  from: string
  body?: string
  name?: string
  [key: string]: unknown
}

/** Sets the client used by the module-level functions (default: RECUERDO_URL + RECUERDO_API_KEY). */
export function configureRecuerdo(clientOrOptions: Recuerdo | RecuerdoOptions): Recuerdo
/** The client the module-level functions use. */
export function getRecuerdo(): Recuerdo

export interface RecuerdoHelpers {
  /** The seed's saveThreadId(jid, threadId). Resolves to true. */
  saveThreadId(jid: string, threadId: string): Promise<true>
  /** The seed's getThreadId(jid): the saved thread id, or null. */
  getThreadId(jid: string): Promise<string | null>
  /** The seed's saveMessageToHistory(phoneNumber, role, content, threadId). */
  saveMessageToHistory(
    phoneNumber: string,
    role: 'user' | 'assistant' | 'manual_operator' | 'system',
    content: string,
    threadId?: string | null,
  ): Promise<Message>
  /**
   * The seed's enrichContextWithHistory(phoneNumber, state): for a returning client, does
   * `state.update({ historical_context, is_returning_customer: true })` and resolves to true;
   * otherwise resolves to false and leaves state alone. `incomingText` (what the client just
   * wrote) lets recuerdo pick the most relevant past messages.
   */
  enrichContextWithHistory(phoneNumber: string, state: BotStateLike, incomingText?: string): Promise<boolean>
  /** Pauses the bot for a client while a human answers (persistent blacklist.add). */
  pauseBot(jid: string, by?: string, reason?: string): Promise<Handoff>
  /** Lets the bot answer again (persistent blacklist.remove). */
  resumeBot(jid: string): Promise<Handoff>
  /** True while the bot is paused for the client (persistent blacklist.checkIf). */
  isBotPaused(jid: string): Promise<boolean>
  /** Flow action: `addKeyword('hola').addAction(stopIfBotPaused)` ends the flow while paused. */
  stopIfBotPaused(ctx: IncomingCtxLike, methods: FlowMethodsLike): Promise<unknown>
}

/** The seed's functions and handoff helpers bound to one client. */
export function createRecuerdoHelpers(clientOrOptions: Recuerdo | RecuerdoOptions): RecuerdoHelpers

export const saveThreadId: RecuerdoHelpers['saveThreadId']
export const getThreadId: RecuerdoHelpers['getThreadId']
export const saveMessageToHistory: RecuerdoHelpers['saveMessageToHistory']
export const enrichContextWithHistory: RecuerdoHelpers['enrichContextWithHistory']
export const pauseBot: RecuerdoHelpers['pauseBot']
export const resumeBot: RecuerdoHelpers['resumeBot']
export const isBotPaused: RecuerdoHelpers['isBotPaused']
export const stopIfBotPaused: RecuerdoHelpers['stopIfBotPaused']

export interface RecuerdoDBFailure {
  from: string
  role?: 'user' | 'assistant'
  action: 'record' | 'handoff-check'
}

export interface RecuerdoDBOptions {
  /** A client or its options; default: the module's client (configureRecuerdo / env). */
  recuerdo?: Recuerdo | RecuerdoOptions
  /**
   * The BuilderBot provider. With it every incoming message is recorded before the bot sees it,
   * and messages from clients whose bot is paused never reach the flows.
   */
  provider?: { emit(eventName: string, ...args: unknown[]): unknown }
  /** How many saved ctx objects listHistory keeps (default 1000). */
  historyLimit?: number
  /**
   * Called when recuerdo cannot record a message or answer the handoff check. Without it, save()
   * rejects and incoming-message failures are printed with console.error.
   */
  onError?: (error: RecuerdoError, failure: RecuerdoDBFailure) => void
  /** Return false for incoming messages that should not be recorded (e.g. your own dispatch events). */
  recordIncoming?: (ctx: IncomingCtxLike) => boolean
}

/** A BuilderBot database (MemoryDB's shape) that records the conversation in recuerdo. */
export class RecuerdoDB {
  constructor(options?: RecuerdoDBOptions)
  /** The ctx objects saved by this process, as MemoryDB keeps them (bounded by historyLimit). */
  listHistory: any[]
  readonly recuerdo: Recuerdo
  /** The last flow step saved for a number by this process. */
  getPrevByNumber(from: string): Promise<any>
  /** Keeps the flow step and records real messages (user / assistant) in recuerdo. */
  save(ctx: any): Promise<void>
  /** Resolves when every recording started so far has finished. */
  flush(): Promise<void>
}
