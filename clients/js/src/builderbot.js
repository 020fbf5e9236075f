// BuilderBot integration: drop-in replacements for the seed's functions, a database adapter with
// the shape of BuilderBot's MemoryDB, and handoff helpers backed by recuerdo's persistent flag.
//
// Nothing here imports @builderbot/bot: the adapter only relies on the shapes createBot uses
// (database.save(ctx), database.getPrevByNumber(from), provider.emit('message', ctx)).

import { Recuerdo, RecuerdoError } from './index.js'

// ---- the default client used by the module-level functions ----

let defaultClient = null

/**
 * Sets the client used by the module-level functions (saveThreadId, getThreadId, ...).
 * Without this call they build one from RECUERDO_URL and RECUERDO_API_KEY.
 *
 * @example
 * configureRecuerdo({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.RECUERDO_API_KEY })
 */
export function configureRecuerdo(clientOrOptions) {
  defaultClient = toClient(clientOrOptions)
  return defaultClient
}

/** The client the module-level functions use. */
export function getRecuerdo() {
  if (defaultClient !== null) return defaultClient
  const baseUrl = process.env.RECUERDO_URL
  const apiKey = process.env.RECUERDO_API_KEY
  if (!baseUrl || !apiKey) {
    throw new RecuerdoError(
      'recuerdo is not configured: call configureRecuerdo({ baseUrl, apiKey }) or set RECUERDO_URL and RECUERDO_API_KEY',
      { code: 'invalid-argument' },
    )
  }
  defaultClient = new Recuerdo({ baseUrl, apiKey })
  return defaultClient
}

function toClient(clientOrOptions) {
  if (clientOrOptions instanceof Recuerdo) return clientOrOptions
  if (clientOrOptions && typeof clientOrOptions === 'object') return new Recuerdo(clientOrOptions)
  throw new RecuerdoError('expected a Recuerdo client or { baseUrl, apiKey }', { code: 'invalid-argument' })
}

// ---- the seed's functions, bound to a client ----

/**
 * The seed's functions and the handoff helpers, bound to one client.
 *
 * @example
 * const { saveThreadId, getThreadId } = createRecuerdoHelpers(new Recuerdo({ baseUrl, apiKey }))
 */
export function createRecuerdoHelpers(clientOrOptions) {
  const recuerdo = toClient(clientOrOptions)
  return bindHelpers(() => recuerdo)
}

function bindHelpers(client) {
  const helpers = {
    /** The seed's saveThreadId: keeps the LLM thread id of a WhatsApp id. Returns true. */
    async saveThreadId(jid, threadId) {
      await client().saveThreadId(jid, threadId)
      return true
    },

    /** The seed's getThreadId: the thread id saved for a WhatsApp id, or null. */
    async getThreadId(jid) {
      return client().getThreadId(jid)
    },

    /** The seed's saveMessageToHistory; `role` is user, assistant or manual_operator. */
    async saveMessageToHistory(phoneNumber, role, content, threadId) {
      const { message } = await client().recordMessage(phoneNumber, {
        role,
        content,
        threadId: threadId ?? undefined,
        at: nextTimestamp(),
      })
      return message
    },

    /**
     * The seed's enrichContextWithHistory: when the client comes back after a long time, puts the
     * context note in `state` as `historical_context` and sets `is_returning_customer`, and
     * returns true; otherwise leaves `state` alone and returns false.
     */
    async enrichContextWithHistory(phoneNumber, state, incomingText) {
      const context = await client().context(phoneNumber, incomingText ?? undefined)
      if (!context || context.is_returning !== true) return false
      await state.update({
        historical_context: context.note,
        is_returning_customer: true,
      })
      return true
    },

    /** Pauses the bot for a client while a human answers (BuilderBot's blacklist.add, persisted). */
    async pauseBot(jid, by = 'bot', reason) {
      return client().pauseBot(jid, { by, reason })
    },

    /** Lets the bot answer the client again (BuilderBot's blacklist.remove, persisted). */
    async resumeBot(jid) {
      return client().resumeBot(jid)
    },

    /** True while a human has the chat (BuilderBot's blacklist.checkIf, persisted). */
    async isBotPaused(jid) {
      return client().botPaused(jid)
    },

    /**
     * A flow action that ends the flow when the bot is paused for the client:
     * `addKeyword('hola').addAction(stopIfBotPaused).addAnswer('...')`.
     */
    async stopIfBotPaused(ctx, { endFlow }) {
      if (await client().botPaused(ctx.from)) return endFlow()
      return undefined
    },
  }
  return helpers
}

const moduleHelpers = bindHelpers(getRecuerdo)

/** The seed's saveThreadId(jid, threadId), kept in recuerdo instead of clientThreadMap. Returns true. */
export const saveThreadId = moduleHelpers.saveThreadId
/** The seed's getThreadId(jid): the saved thread id or null. */
export const getThreadId = moduleHelpers.getThreadId
/** The seed's saveMessageToHistory(phoneNumber, role, content, threadId). */
export const saveMessageToHistory = moduleHelpers.saveMessageToHistory
/** The seed's enrichContextWithHistory(phoneNumber, state): true when the client is returning. */
export const enrichContextWithHistory = moduleHelpers.enrichContextWithHistory
/** Pauses the bot for a client (a human takes over). */
export const pauseBot = moduleHelpers.pauseBot
/** Lets the bot answer the client again. */
export const resumeBot = moduleHelpers.resumeBot
/** True while the bot is paused for the client. */
export const isBotPaused = moduleHelpers.isBotPaused
/** Flow action: `addKeyword(...).addAction(stopIfBotPaused)` ends the flow while paused. */
export const stopIfBotPaused = moduleHelpers.stopIfBotPaused

// ---- the database adapter ----

// What BuilderBot saves but never sends: flow bookkeeping, not messages.
const FLOW_MARKERS = new Set(['__call_action__', '__goto_flow__', '__end_flow__', '__capture_only_intended__'])

// How BuilderBot providers announce non-text messages in `body` (`_event_media__<uuid>`, ...).
const EVENT_BODY = /^_event_(media|document|voice_note|location|order|template|call)__[\w-]{36}$/
const EVENT_CONTENT_TYPE = {
  media: 'image',
  document: 'document',
  voice_note: 'audio',
  location: 'location',
  order: 'other',
  template: 'other',
  call: 'other',
}

const MEDIA_TYPES = [
  [/\.(jpe?g|png|gif|webp|bmp)(\?|$)/i, 'image'],
  [/\.(mp4|mov|3gp|mkv|webm)(\?|$)/i, 'video'],
  [/\.(mp3|ogg|opus|m4a|aac|wav|oga)(\?|$)/i, 'audio'],
]

const WATCHED = Symbol.for('recuerdo.watchedProvider')

/**
 * A BuilderBot database that records the conversation in recuerdo.
 *
 * Give it the provider too, so that it records every incoming message (BuilderBot itself only
 * saves an incoming message while a flow waits for an answer) and keeps the bot quiet for
 * clients whose bot is paused (handoff):
 *
 * @example
 * const provider = createProvider(BaileysProvider)
 * const database = new RecuerdoDB({ recuerdo, provider })
 * await createBot({ flow, provider, database })
 */
export class RecuerdoDB {
  /** The ctx objects saved by this process, as BuilderBot's MemoryDB keeps them (bounded). */
  listHistory = []

  #recuerdo
  #historyLimit
  #onError
  #recordIncoming
  #watching = false
  #prevByNumber = new Map()
  #lastIncoming = new Map()
  #queueByNumber = new Map()
  #pending = new Set()

  constructor({ recuerdo, provider, historyLimit = 1000, onError, recordIncoming } = {}) {
    this.#recuerdo = recuerdo === undefined ? null : toClient(recuerdo)
    if (!Number.isInteger(historyLimit) || historyLimit < 0) {
      throw new RecuerdoError(`RecuerdoDB: historyLimit must be an integer >= 0, got ${historyLimit}`, { code: 'invalid-argument' })
    }
    if (onError !== undefined && typeof onError !== 'function') {
      throw new RecuerdoError('RecuerdoDB: onError must be a function (error, info) => void', { code: 'invalid-argument' })
    }
    if (recordIncoming !== undefined && typeof recordIncoming !== 'function') {
      throw new RecuerdoError('RecuerdoDB: recordIncoming must be a function (ctx) => boolean', { code: 'invalid-argument' })
    }
    this.#historyLimit = historyLimit
    this.#onError = onError ?? null
    this.#recordIncoming = recordIncoming ?? (() => true)
    if (provider !== undefined) this.#watch(provider)
  }

  get recuerdo() {
    return this.#recuerdo ?? getRecuerdo()
  }

  /**
   * The last flow step saved for a number in this process (what BuilderBot continues from).
   * Flow refs are regenerated each time BuilderBot starts, so a step saved by an earlier process
   * could never match: after a restart the conversation starts afresh, as with MemoryDB, while
   * the history, thread id and handoff flag stay in recuerdo.
   */
  async getPrevByNumber(from) {
    return this.#prevByNumber.get(from)
  }

  /**
   * Called by BuilderBot for every flow step it sends (and for an answer to a capture step):
   * keeps the step for getPrevByNumber and records real messages in recuerdo.
   */
  async save(ctx) {
    if (ctx === null || typeof ctx !== 'object') return
    this.listHistory.push(ctx)
    if (this.listHistory.length > this.#historyLimit) {
      this.listHistory.splice(0, this.listHistory.length - this.#historyLimit)
    }
    if (ctx.keyword && typeof ctx.from === 'string') this.#prevByNumber.set(ctx.from, ctx)

    const message = this.#messageFromSavedCtx(ctx)
    if (message === null) return
    try {
      const work = this.recuerdo.recordMessage(ctx.from, message)
      this.#track(work)
      await work
    } catch (error) {
      const info = { from: ctx.from, role: message.role, action: 'record' }
      if (this.#onError === null) throw wrapError(error, info)
      this.#onError(wrapError(error, info), info)
    }
  }

  /** Resolves when every recording started so far has finished (for a graceful shutdown). */
  async flush() {
    while (this.#pending.size > 0) {
      await Promise.allSettled([...this.#pending])
    }
  }

  #messageFromSavedCtx(ctx) {
    const from = ctx.from
    const answer = ctx.answer
    if (typeof from !== 'string' || from === '' || typeof answer !== 'string' || answer.trim() === '') return null
    if (FLOW_MARKERS.has(answer)) return null
    if (isIncomingEcho(ctx)) {
      // BuilderBot saves the client's answer to a capture step. When the provider is watched,
      // that message was already recorded on arrival.
      if (this.#watching && this.#lastIncoming.get(from) === answer) return null
      return { ...describeIncoming({ body: answer }), role: 'user', at: nextTimestamp() }
    }
    const media = typeof ctx.options?.media === 'string' ? ctx.options.media : null
    const buttons = Array.isArray(ctx.options?.buttons) ? ctx.options.buttons.map((b) => b?.body).filter(Boolean) : []
    const builderbot = {}
    if (media) builderbot.media = media
    if (buttons.length) builderbot.buttons = buttons
    return {
      role: 'assistant',
      content: answer,
      at: nextTimestamp(),
      contentType: media ? mediaType(media) : 'text',
      metadata: Object.keys(builderbot).length ? { builderbot } : undefined,
    }
  }

  #watch(provider) {
    if (provider === null || typeof provider !== 'object' || typeof provider.emit !== 'function') {
      throw new RecuerdoError('RecuerdoDB: provider must be a BuilderBot provider (with emit and on)', { code: 'invalid-argument' })
    }
    if (provider[WATCHED]) {
      throw new RecuerdoError('RecuerdoDB: this provider is already watched by another RecuerdoDB', { code: 'invalid-argument' })
    }
    const emit = provider.emit
    // Every incoming message goes through here before BuilderBot sees it: it is recorded first
    // (so the history keeps the client's message before the bot's answers) and dropped while the
    // bot is paused for that client. Messages from one client keep their order.
    provider.emit = (eventName, ...args) => {
      const ctx = args[0]
      if (eventName !== 'message' || typeof ctx?.from !== 'string' || ctx.from === '') {
        return emit.call(provider, eventName, ...args)
      }
      const from = ctx.from
      const previous = this.#queueByNumber.get(from) ?? Promise.resolve()
      const turn = previous.then(noop, noop).then(async () => {
        let deliver = true
        try {
          deliver = await this.#beforeBot(ctx)
        } catch (error) {
          this.#report(error, { from, role: 'user', action: 'record' })
        }
        // A turn never rejects: the next message from this client must not be lost with it.
        try {
          if (deliver) emit.call(provider, eventName, ...args)
        } catch (error) {
          console.error('[recuerdo] the provider failed to deliver a message to BuilderBot:', error)
        }
      })
      this.#queueByNumber.set(from, turn)
      this.#track(turn)
      turn.finally(() => {
        if (this.#queueByNumber.get(from) === turn) this.#queueByNumber.delete(from)
      })
      return true
    }
    provider[WATCHED] = true
    this.#watching = true
  }

  async #beforeBot(ctx) {
    const from = ctx.from
    const body = typeof ctx.body === 'string' ? ctx.body : ''
    if (body.trim() !== '') this.#lastIncoming.set(from, body)
    const shouldRecord = body.trim() !== '' && !isDispatchedEvent(body) && this.#recordIncoming(ctx) !== false
    const recording = shouldRecord ? this.recuerdo.recordMessage(from, incomingMessage(ctx)) : null
    const pausedCheck = this.recuerdo.botPaused(from)
    const [recorded, paused] = await Promise.allSettled([recording, pausedCheck])
    if (recorded.status === 'rejected') this.#report(recorded.reason, { from, role: 'user', action: 'record' })
    if (paused.status === 'rejected') {
      // Fail open: if recuerdo cannot say whether a human took over, the bot keeps answering
      // rather than going silent for every client.
      this.#report(paused.reason, { from, action: 'handoff-check' })
      return true
    }
    return paused.value !== true
  }

  #report(error, info) {
    const wrapped = wrapError(error, info)
    if (this.#onError !== null) {
      try {
        this.#onError(wrapped, info)
        return
      } catch (thrown) {
        console.error('[recuerdo] onError threw while handling a failure:', thrown)
      }
    }
    console.error(`[recuerdo] ${wrapped.message}`)
  }

  #track(promise) {
    const tracked = Promise.resolve(promise).then(
      () => undefined,
      () => undefined,
    )
    this.#pending.add(tracked)
    tracked.finally(() => this.#pending.delete(tracked))
  }
}

function noop() {}

function wrapError(error, info) {
  if (error instanceof RecuerdoError) return error
  const what = info.action === 'handoff-check' ? 'checking the handoff flag' : `recording a ${info.role} message`
  return new RecuerdoError(`RecuerdoDB: ${what} failed: ${error?.message ?? error}`, { code: 'network-error', cause: error })
}

// The client's answer to a capture step, saved by BuilderBot's handleMsg: toCtx({ body, from,
// prevRef }) gives it empty options, while every step it sends carries media/buttons/capture/delay.
function isIncomingEcho(ctx) {
  return ctx.options !== null && typeof ctx.options === 'object' && Object.keys(ctx.options).length === 0
}

// bot.dispatch('NAME', { from }) (BuilderBot's HTTP endpoints) arrives as a message whose body is
// utils.setEvent('NAME'): an AES-encrypted marker, hex-encoded, then base64-encoded. It is the
// business triggering a flow, not something the client wrote, so it is not recorded.
function isDispatchedEvent(body) {
  if (body.length < 44 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return false
  const decoded = Buffer.from(body, 'base64').toString('latin1')
  return decoded.length % 32 === 0 && /^[0-9a-f]+$/.test(decoded)
}

function incomingMessage(ctx) {
  const message = { ...describeIncoming(ctx), role: 'user', at: incomingTime(ctx) }
  const externalId = typeof ctx.key?.id === 'string' && ctx.key.id ? ctx.key.id : typeof ctx.message_id === 'string' && ctx.message_id ? ctx.message_id : undefined
  if (externalId) message.externalId = externalId
  const profileName = typeof ctx.name === 'string' && ctx.name.trim() ? ctx.name : typeof ctx.pushName === 'string' && ctx.pushName.trim() ? ctx.pushName : undefined
  if (profileName) message.profileName = profileName
  return message
}

function describeIncoming(ctx) {
  const body = ctx.body
  const event = EVENT_BODY.exec(body)
  if (event === null) return { content: body, contentType: 'text' }
  const kind = event[1]
  const m = ctx.message ?? {}
  let contentType = EVENT_CONTENT_TYPE[kind]
  if (kind === 'media' && m.videoMessage) contentType = 'video'
  if (kind === 'media' && m.stickerMessage) contentType = 'sticker'
  const caption = m.imageMessage?.caption ?? m.videoMessage?.caption ?? m.documentMessage?.caption ?? m.documentWithCaptionMessage?.message?.documentMessage?.caption
  const fileName = m.documentMessage?.fileName ?? m.documentWithCaptionMessage?.message?.documentMessage?.fileName
  const location = m.locationMessage
  let content = `[${contentType}]`
  if (typeof caption === 'string' && caption.trim()) content = caption
  else if (typeof fileName === 'string' && fileName.trim()) content = `[document] ${fileName}`
  else if (location && Number.isFinite(location.degreesLatitude) && Number.isFinite(location.degreesLongitude)) {
    content = `[location] ${location.degreesLatitude},${location.degreesLongitude}`
  }
  return { content, contentType, metadata: { builderbot: { event: kind } } }
}

function incomingTime(ctx) {
  // Baileys gives the WhatsApp timestamp in seconds (a number or a Long with toNumber()).
  const raw = ctx.messageTimestamp
  const seconds = typeof raw === 'number' ? raw : typeof raw?.toNumber === 'function' ? raw.toNumber() : Number.NaN
  if (Number.isFinite(seconds) && seconds > 0) {
    const ms = seconds * 1000
    // A message only just received is stamped now, so that it sorts before the bot's answers
    // even though WhatsApp's timestamp has whole seconds; older (redelivered) ones keep theirs.
    if (Date.now() - ms < 60_000) return nextTimestamp()
    return new Date(ms)
  }
  return nextTimestamp()
}

function mediaType(media) {
  for (const [pattern, type] of MEDIA_TYPES) if (pattern.test(media)) return type
  return 'document'
}

// Strictly increasing times for what this process records, so that a client's message and the
// bot's answers written in the same millisecond keep their order.
let lastTimestamp = 0
function nextTimestamp() {
  lastTimestamp = Math.max(Date.now(), lastTimestamp + 1)
  return new Date(lastTimestamp)
}

export { Recuerdo, RecuerdoError }
