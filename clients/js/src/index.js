// Zero-dependency client for the recuerdo HTTP API (docs/api.md), for Node 18+ (global fetch).
//
// Every call is retried on connection errors, timeouts, 429 and 5xx. That is safe because every
// route it calls is idempotent: PUT/PATCH/DELETE by nature, and message writes carry an
// idempotency key (the provider message id, or a UUID generated here) so a retried write that
// had already landed is answered 200 with the stored message instead of being stored twice.

import { randomUUID } from 'node:crypto'

const MAX_BATCH = 500

const DEFAULTS = Object.freeze({
  timeoutMs: 10_000,
  retries: 2,
  retryDelayMs: 200,
  maxRetryDelayMs: 5_000,
})

/** Error thrown by every failed call: HTTP problem, timeout, connection error or bad argument. */
export class RecuerdoError extends Error {
  constructor(message, { status = null, code, title = null, detail = null, type = null, method = null, path = null, attempts = 0, body = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'RecuerdoError'
    this.status = status
    this.code = code
    this.title = title
    this.detail = detail
    this.type = type
    this.method = method
    this.path = path
    this.attempts = attempts
    this.body = body
  }

  /** True when the same call may succeed later (timeouts, connection errors, 429, 5xx). */
  get retryable() {
    return isRetryable(this)
  }
}

function isRetryable(error) {
  if (error.code === 'timeout' || error.code === 'network-error') return true
  return error.status === 429 || (error.status !== null && error.status >= 500)
}

/**
 * Client of one recuerdo server.
 *
 * @example
 * const recuerdo = new Recuerdo({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.RECUERDO_API_KEY })
 * await recuerdo.recordMessage('573003913251', { role: 'user', content: 'Hola' })
 */
export class Recuerdo {
  #baseUrl
  #apiKey
  #fetch

  constructor({ baseUrl, apiKey, timeoutMs = DEFAULTS.timeoutMs, retries = DEFAULTS.retries, retryDelayMs = DEFAULTS.retryDelayMs, maxRetryDelayMs = DEFAULTS.maxRetryDelayMs, fetch: fetchImpl = globalThis.fetch } = {}) {
    if (typeof baseUrl !== 'string' || !/^https?:\/\//.test(baseUrl)) {
      throw argumentError('new Recuerdo()', `baseUrl must be an http(s) URL such as "http://127.0.0.1:8080", got ${describe(baseUrl)}`)
    }
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw argumentError('new Recuerdo()', 'apiKey is required (create one with `recuerdo keys create --scope bot`)')
    }
    for (const [name, value] of Object.entries({ timeoutMs, retries, retryDelayMs, maxRetryDelayMs })) {
      if (!Number.isFinite(value) || value < 0) {
        throw argumentError('new Recuerdo()', `${name} must be a number >= 0, got ${describe(value)}`)
      }
    }
    if (typeof fetchImpl !== 'function') {
      throw argumentError('new Recuerdo()', 'no global fetch: use Node 18 or newer, or pass { fetch }')
    }
    this.#baseUrl = baseUrl.replace(/\/+$/, '')
    this.#apiKey = apiKey
    this.#fetch = fetchImpl
    this.timeoutMs = timeoutMs
    this.retries = Math.floor(retries)
    this.retryDelayMs = retryDelayMs
    this.maxRetryDelayMs = maxRetryDelayMs
  }

  get baseUrl() {
    return this.#baseUrl
  }

  // ---- thread id (the seed's saveThreadId / getThreadId) ----

  /** Sets the client's current LLM thread id. Answers `{ client_id, thread_id, provider }`. */
  async saveThreadId(who, threadId, { provider } = {}) {
    requireText('saveThreadId', 'threadId', threadId)
    const body = { thread_id: threadId }
    if (provider !== undefined) body.provider = provider
    return this.#call('PUT', `${clientPath('saveThreadId', who)}/thread`, { body })
  }

  /** The client's current thread id, or null when none was saved (or the client is unknown). */
  async getThreadId(who) {
    const answer = await this.getThread(who)
    return answer.thread_id ?? null
  }

  /** `{ thread_id, provider }`, both null when none was saved. */
  async getThread(who) {
    return this.#call('GET', `${clientPath('getThread', who)}/thread`)
  }

  // ---- messages ----

  /**
   * Records one message. Answers `{ created, message }`: `created` is false when a message with
   * the same external id was already stored (a retry or a redelivered webhook).
   */
  async recordMessage(who, message = {}) {
    const path = `${clientPath('recordMessage', who)}/messages`
    const body = messageBody('recordMessage', message)
    const { status, data } = await this.#call('POST', path, {
      body,
      headers: { 'Idempotency-Key': body.external_id },
      withStatus: true,
    })
    return { created: status === 201, message: data }
  }

  /** Records up to 500 messages `[{ who, role, content, ... }]`. Answers `{ results: [{ created, message }] }`. */
  async recordBatch(messages) {
    if (!Array.isArray(messages) || messages.length === 0) {
      throw argumentError('recordBatch', `messages must be a non-empty array, got ${describe(messages)}`)
    }
    if (messages.length > MAX_BATCH) {
      throw argumentError('recordBatch', `at most ${MAX_BATCH} messages per batch, got ${messages.length}: split them`)
    }
    const body = {
      messages: messages.map((m, i) => {
        if (m === null || typeof m !== 'object') {
          throw argumentError('recordBatch', `messages[${i}] must be an object, got ${describe(m)}`)
        }
        requireWho(`recordBatch (messages[${i}])`, m.who)
        return { who: m.who, ...messageBody(`recordBatch (messages[${i}])`, m) }
      }),
    }
    return this.#call('POST', '/v1/messages/batch', { body })
  }

  /** A client's messages, newest first: `{ items, next_cursor }`. */
  async history(who, { limit, before, conversationId, role } = {}) {
    const query = { limit, before, conversation_id: conversationId, role }
    return this.#call('GET', `${clientPath('history', who)}/messages`, { query })
  }

  // ---- clients ----

  /** One client (phone, identifiers, names, thread, counters, tags, attributes, handoff). */
  async client(who) {
    return this.#call('GET', clientPath('client', who))
  }

  /** Updates name, tags and attributes (attributes are merged; a null value removes the key). */
  async updateClient(who, { customerName, addTags, removeTags, attributes } = {}) {
    const body = {}
    if (customerName !== undefined) body.customer_name = customerName
    if (addTags !== undefined) body.add_tags = addTags
    if (removeTags !== undefined) body.remove_tags = removeTags
    if (attributes !== undefined) body.attributes = attributes
    return this.#call('PATCH', clientPath('updateClient', who), { body })
  }

  /** Lists clients: `{ items, next_cursor }`. `activeSince` may be a Date or an ISO string. */
  async clients({ tag, name, activeSince, limit, cursor } = {}) {
    const query = { tag, name, active_since: isoTime(activeSince), limit, cursor }
    return this.#call('GET', '/v1/clients', { query })
  }

  /** A client's conversations: `{ items, next_cursor }`. */
  async conversations(who, { limit, cursor } = {}) {
    return this.#call('GET', `${clientPath('conversations', who)}/conversations`, { query: { limit, cursor } })
  }

  // ---- handoff (the bot paused while a human answers) ----

  /** Pauses the bot for a client. Answers the handoff `{ paused: true, by, reason, since }`. */
  async pauseBot(who, { by, reason } = {}) {
    requireText('pauseBot', 'by', by)
    const body = { by }
    if (reason !== undefined && reason !== null) body.reason = reason
    return this.#call('POST', `${clientPath('pauseBot', who)}/handoff`, { body })
  }

  /** Lets the bot answer the client again. Answers the handoff `{ paused: false, ... }`. */
  async resumeBot(who) {
    return this.#call('DELETE', `${clientPath('resumeBot', who)}/handoff`)
  }

  /** The handoff flag `{ paused, by, reason, since }`. */
  async handoff(who) {
    return this.#call('GET', `${clientPath('handoff', who)}/handoff`)
  }

  /** True while a human has taken over the chat: the bot should not answer. */
  async botPaused(who) {
    const answer = await this.handoff(who)
    return answer.paused === true
  }

  // ---- context and search ----

  /** The returning-customer context (the seed's enrichContextWithHistory), given what the client just wrote. */
  async context(who, text, { lang } = {}) {
    return this.#call('GET', `${clientPath('context', who)}/context`, { query: { text, lang } })
  }

  /** Searches messages: `{ items }`. `since` / `until` may be Dates or ISO strings. */
  async search(q, { who, limit, since, until, role } = {}) {
    requireText('search', 'q', q)
    const query = { q, who, limit, since: isoTime(since), until: isoTime(until), role }
    return this.#call('GET', '/v1/search', { query })
  }

  // ---- API keys (admin) ----

  /** Creates an API key: `{ id, key, scope, name }`; the key is shown only in this answer. */
  async createKey({ name, scope }) {
    requireText('createKey', 'name', name)
    requireText('createKey', 'scope', scope)
    // Not retried: unlike every other write, creating a key twice would leave two keys.
    return this.#call('POST', '/v1/keys', { body: { name, scope }, retry: false })
  }

  async listKeys() {
    return this.#call('GET', '/v1/keys')
  }

  async revokeKey(id) {
    if (id === undefined || id === null || id === '') throw argumentError('revokeKey', 'id is required')
    await this.#call('DELETE', `/v1/keys/${encodeURIComponent(String(id))}`)
  }

  // ---- health ----

  async health() {
    return this.#call('GET', '/healthz', { auth: false })
  }

  async ready() {
    return this.#call('GET', '/readyz', { auth: false })
  }

  // ---- transport ----

  async #call(method, path, { body, query, headers = {}, withStatus = false, auth = true, retry = true } = {}) {
    const url = this.#baseUrl + path + queryString(query)
    const requestHeaders = { Accept: 'application/json, application/problem+json', ...headers }
    if (auth) requestHeaders.Authorization = `Bearer ${this.#apiKey}`
    let payload
    if (body !== undefined) {
      requestHeaders['Content-Type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    const shownPath = maskPath(path)
    const attempts = retry ? this.retries + 1 : 1
    for (let attempt = 1; ; attempt++) {
      try {
        const { status, data } = await this.#attempt(method, url, requestHeaders, payload, shownPath, attempt)
        return withStatus ? { status, data } : data
      } catch (error) {
        if (!(error instanceof RecuerdoError) || !isRetryable(error) || attempt >= attempts) {
          if (error instanceof RecuerdoError) error.attempts = attempt
          throw error
        }
        await sleep(this.#backoff(attempt, error))
      }
    }
  }

  async #attempt(method, url, headers, payload, shownPath, attempt) {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.timeoutMs)
    const where = { method, path: shownPath, attempts: attempt }
    try {
      let response
      try {
        response = await this.#fetch(url, { method, headers, body: payload, signal: controller.signal })
      } catch (cause) {
        if (controller.signal.aborted) {
          throw new RecuerdoError(`${method} ${shownPath} failed: no answer within ${this.timeoutMs} ms`, { ...where, code: 'timeout', cause })
        }
        const reason = cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? String(cause)
        throw new RecuerdoError(`${method} ${shownPath} failed: cannot reach ${new URL(url).origin} (${reason})`, { ...where, code: 'network-error', cause })
      }
      let text
      try {
        text = await response.text()
      } catch (cause) {
        const code = controller.signal.aborted ? 'timeout' : 'network-error'
        const why = code === 'timeout' ? `answer not complete within ${this.timeoutMs} ms` : `connection lost while reading the answer (${cause?.message ?? cause})`
        throw new RecuerdoError(`${method} ${shownPath} failed: ${why}`, { ...where, status: response.status, code, cause })
      }
      if (!response.ok) throw problemError(method, shownPath, response, text, attempt)
      if (response.status === 204 || text === '') return { status: response.status, data: null }
      try {
        return { status: response.status, data: JSON.parse(text) }
      } catch (cause) {
        throw new RecuerdoError(`${method} ${shownPath} failed: the server answered ${response.status} with a body that is not JSON: ${excerpt(text)}`, { ...where, status: response.status, code: 'invalid-response', body: text, cause })
      }
    } finally {
      clearTimeout(timer)
    }
  }

  #backoff(attempt, error) {
    const retryAfter = error.retryAfterMs
    if (Number.isFinite(retryAfter)) return Math.min(retryAfter, this.maxRetryDelayMs)
    const ceiling = Math.min(this.retryDelayMs * 2 ** (attempt - 1), this.maxRetryDelayMs)
    // "Equal jitter": at least half the delay, so retries never hammer the server back to back.
    return ceiling / 2 + Math.random() * (ceiling / 2)
  }
}

function problemError(method, shownPath, response, text, attempt) {
  let problem = null
  try {
    problem = JSON.parse(text)
  } catch {
    problem = null
  }
  const isProblem = problem !== null && typeof problem === 'object' && !Array.isArray(problem)
  const code = isProblem && typeof problem.code === 'string' ? problem.code : `http-${response.status}`
  const detail = isProblem && typeof problem.detail === 'string' ? problem.detail : null
  const title = isProblem && typeof problem.title === 'string' ? problem.title : null
  const why = detail ?? title ?? (text ? excerpt(text) : response.statusText || 'no detail')
  const error = new RecuerdoError(`${method} ${shownPath} failed: ${response.status} ${code}: ${why}`, {
    status: response.status,
    code,
    title,
    detail,
    type: isProblem && typeof problem.type === 'string' ? problem.type : null,
    method,
    path: shownPath,
    attempts: attempt,
    body: isProblem ? problem : text,
  })
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'))
  if (retryAfter !== null) error.retryAfterMs = retryAfter
  return error
}

function parseRetryAfter(value) {
  if (!value) return null
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now())
}

function messageBody(call, message) {
  if (message === null || typeof message !== 'object') {
    throw argumentError(call, `the message must be an object { role, content, ... }, got ${describe(message)}`)
  }
  const { role, content, at, threadId, externalId, contentType, metadata, profileName } = message
  requireText(call, 'role', role)
  if (typeof content !== 'string') {
    throw argumentError(call, `content must be a string, got ${describe(content)}`)
  }
  if (externalId !== undefined && externalId !== null && (typeof externalId !== 'string' || externalId === '')) {
    throw argumentError(call, `externalId must be a non-empty string, got ${describe(externalId)}`)
  }
  // The server stores each external id once per tenant: sending one on every write is what makes
  // retrying a write that timed out (but may have landed) harmless.
  const body = { role, content, external_id: externalId ?? randomUUID() }
  if (at !== undefined && at !== null) body.at = isoTime(at, call)
  if (threadId !== undefined && threadId !== null) body.thread_id = threadId
  if (contentType !== undefined && contentType !== null) body.content_type = contentType
  if (metadata !== undefined && metadata !== null) body.metadata = metadata
  if (profileName !== undefined && profileName !== null) body.profile_name = profileName
  return body
}

function isoTime(value, call = 'recuerdo') {
  if (value === undefined || value === null) return undefined
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw argumentError(call, 'got an invalid Date')
    return value.toISOString()
  }
  if (typeof value === 'string') return value
  throw argumentError(call, `a time must be a Date or an ISO 8601 string with a timezone, got ${describe(value)}`)
}

function clientPath(call, who) {
  requireWho(call, who)
  return `/v1/clients/${encodeURIComponent(who)}`
}

function requireWho(call, who) {
  if (typeof who !== 'string' || who.trim() === '') {
    throw argumentError(call, `who must be a phone number, WhatsApp JID, lid or BSUID string, got ${describe(who)}`)
  }
}

function requireText(call, name, value) {
  if (typeof value !== 'string' || value.trim() === '') {
    throw argumentError(call, `${name} must be a non-empty string, got ${describe(value)}`)
  }
}

function argumentError(call, why) {
  return new RecuerdoError(`${call}: ${why}`, { code: 'invalid-argument' })
}

function queryString(query) {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

/** Hides the middle digits of phone numbers in what errors show: 573*****251, as the server logs do. */
export function maskPath(path) {
  return path.replace(/(\d{3})(\d{2,})(\d{3})/g, (_, head, middle, tail) => `${head}${'*'.repeat(middle.length)}${tail}`)
}

function describe(value) {
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function excerpt(text) {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
