// An in-memory stand-in for the bot routes of recuerdo (docs/api.md), on 127.0.0.1, for the
// adapter's unit tests. The integration tests run the real `recuerdo serve` instead.

import { startFakeServer, problem } from './fake-server.js'

export async function startFakeRecuerdo({ failMessages = false } = {}) {
  const messages = []
  const threads = new Map()
  const handoffs = new Map()
  const byExternalId = new Map()
  const server = await startFakeServer((request) => {
    const match = /^\/v1\/clients\/([^/]+)\/(messages|thread|handoff|context)$/.exec(request.rawPath)
    if (!match) return problem(404, 'not-found', `no route ${request.method} ${request.rawPath}`)
    const who = decodeURIComponent(match[1])
    const route = `${request.method} ${match[2]}`
    if (route === 'POST messages') {
      if (failMessages) return problem(503, 'storage-error', 'database is locked')
      const externalId = request.json.external_id ?? request.headers['idempotency-key']
      if (byExternalId.has(externalId)) return { status: 200, body: byExternalId.get(externalId) }
      const message = { id: messages.length + 1, who, thread_id: threads.get(who) ?? null, content_type: 'text', metadata: {}, ...request.json, external_id: externalId }
      messages.push(message)
      byExternalId.set(externalId, message)
      return { status: 201, body: message }
    }
    if (route === 'PUT thread') {
      threads.set(who, request.json.thread_id)
      return { body: { client_id: 1, thread_id: request.json.thread_id, provider: request.json.provider ?? null } }
    }
    if (route === 'GET thread') return { body: { thread_id: threads.get(who) ?? null, provider: null } }
    if (route === 'POST handoff') {
      handoffs.set(who, { paused: true, by: request.json.by, reason: request.json.reason ?? null, since: new Date().toISOString() })
      return { body: handoffs.get(who) }
    }
    if (route === 'DELETE handoff') {
      handoffs.delete(who)
      return { body: { paused: false, by: null, reason: null, since: null } }
    }
    if (route === 'GET handoff') return { body: handoffs.get(who) ?? { paused: false, by: null, reason: null, since: null } }
    if (route === 'GET context') {
      const returning = messages.some((m) => m.who === who && Date.parse(m.at) < Date.now() - 30 * 86_400_000)
      return { body: { is_returning: returning, is_known: true, days_since: returning ? 45 : 0, customer_name: null, note: returning ? 'Cliente que vuelve.' : '' } }
    }
    return problem(405, 'not-found', route)
  })
  return { ...server, messages, threads, handoffs }
}
