// Unit tests of the HTTP client against a scripted server on 127.0.0.1: retries with the same
// idempotency key, timeouts, problem+json errors, argument checks and request shapes.

import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, describe, test } from 'node:test'

import { Recuerdo, RecuerdoError, maskPath } from '../src/index.js'
import { problem, startFakeServer } from '../testkit/fake-server.js'

const PHONE = '573003913251'

function messageAnswer(request, overrides = {}) {
  return {
    id: 1,
    client_id: 7,
    conversation_id: 3,
    thread_id: null,
    at: '2025-01-01T00:00:00Z',
    role: request.json.role,
    content: request.json.content,
    content_type: 'text',
    external_id: request.json.external_id,
    metadata: {},
    ...overrides,
  }
}

function client(url, options = {}) {
  return new Recuerdo({ baseUrl: url, apiKey: 'recuerdo_test_key', retryDelayMs: 5, ...options })
}

async function freePortWithNothingListening() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('retries', () => {
  test('a write that fails twice with 503 is retried with the same idempotency key', async () => {
    const server = await startFakeServer((request) => {
      if (request.n <= 2) return problem(503, 'storage-error', 'database is locked')
      return { status: 201, body: messageAnswer(request) }
    })
    try {
      const recorded = await client(server.url).recordMessage(PHONE, { role: 'user', content: 'Hola' })
      assert.equal(recorded.created, true)
      assert.equal(server.requests.length, 3)
      const keys = server.requests.map((r) => r.headers['idempotency-key'])
      const bodyIds = server.requests.map((r) => r.json.external_id)
      assert.match(keys[0], /^[0-9a-f-]{36}$/)
      assert.deepEqual(keys, [keys[0], keys[0], keys[0]])
      assert.deepEqual(bodyIds, keys)
      assert.equal(recorded.message.external_id, keys[0])
    } finally {
      await server.close()
    }
  })

  test('a given externalId is the idempotency key, and a repeat answered 200 is created: false', async () => {
    const server = await startFakeServer((request) => ({ status: request.n === 1 ? 201 : 200, body: messageAnswer(request) }))
    try {
      const recuerdo = client(server.url)
      const first = await recuerdo.recordMessage(PHONE, { role: 'user', content: 'Hola', externalId: 'wamid.ABC' })
      const again = await recuerdo.recordMessage(PHONE, { role: 'user', content: 'Hola', externalId: 'wamid.ABC' })
      assert.equal(first.created, true)
      assert.equal(again.created, false)
      for (const request of server.requests) {
        assert.equal(request.headers['idempotency-key'], 'wamid.ABC')
        assert.equal(request.json.external_id, 'wamid.ABC')
      }
    } finally {
      await server.close()
    }
  })

  test('after the last retry the error says which call failed and why', async () => {
    const server = await startFakeServer(() => problem(503, 'storage-error', 'database is locked'))
    try {
      const error = await client(server.url, { retries: 2 })
        .recordMessage(PHONE, { role: 'user', content: 'Hola' })
        .then(() => assert.fail('should have thrown'), (e) => e)
      assert.ok(error instanceof RecuerdoError)
      assert.equal(error.status, 503)
      assert.equal(error.code, 'storage-error')
      assert.equal(error.detail, 'database is locked')
      assert.equal(error.attempts, 3)
      assert.equal(error.retryable, true)
      assert.equal(error.method, 'POST')
      assert.equal(error.path, '/v1/clients/573******251/messages')
      assert.equal(error.message, 'POST /v1/clients/573******251/messages failed: 503 storage-error: database is locked')
      assert.equal(server.requests.length, 3)
    } finally {
      await server.close()
    }
  })

  test('a 4xx answer is not retried', async () => {
    const server = await startFakeServer(() => problem(422, 'invalid-role', "unknown role 'bot'; accepted roles: user, assistant, manual_operator, system"))
    try {
      const error = await client(server.url)
        .recordMessage(PHONE, { role: 'bot', content: 'Hola' })
        .then(() => assert.fail('should have thrown'), (e) => e)
      assert.equal(server.requests.length, 1)
      assert.equal(error.status, 422)
      assert.equal(error.code, 'invalid-role')
      assert.equal(error.retryable, false)
      assert.equal(error.type, 'https://recuerdo.dev/problems/invalid-role')
      assert.match(error.message, /^POST \/v1\/clients\/573\*+251\/messages failed: 422 invalid-role: unknown role 'bot'/)
    } finally {
      await server.close()
    }
  })

  test('a dropped connection is retried', async () => {
    const server = await startFakeServer((request) => (request.n === 1 ? 'drop' : { status: 200, body: { thread_id: 'thread_1', provider: null } }))
    try {
      assert.equal(await client(server.url).getThreadId(PHONE), 'thread_1')
      assert.equal(server.requests.length, 2)
    } finally {
      await server.close()
    }
  })

  test('creating an API key is not retried (it is the one write that is not idempotent)', async () => {
    const server = await startFakeServer(() => problem(500, 'storage-error', 'boom'))
    try {
      const error = await client(server.url, { retries: 3 })
        .createKey({ name: 'bot', scope: 'bot' })
        .then(() => assert.fail('should have thrown'), (e) => e)
      assert.equal(error.attempts, 1)
      assert.equal(server.requests.length, 1)
    } finally {
      await server.close()
    }
  })

  test('429 is retried after Retry-After', async () => {
    const server = await startFakeServer((request) =>
      request.n === 1 ? { ...problem(429, 'too-many-requests', 'slow down'), headers: { 'Retry-After': '0' } } : { status: 200, body: { paused: true, by: 'ana', reason: null, since: '2025-01-01T00:00:00Z' } },
    )
    try {
      assert.equal(await client(server.url).botPaused(PHONE), true)
      assert.equal(server.requests.length, 2)
    } finally {
      await server.close()
    }
  })

  test('connection refused: network-error after every attempt', async () => {
    const port = await freePortWithNothingListening()
    const error = await client(`http://127.0.0.1:${port}`, { retries: 1 })
      .getThreadId(PHONE)
      .then(() => assert.fail('should have thrown'), (e) => e)
    assert.equal(error.code, 'network-error')
    assert.equal(error.status, null)
    assert.equal(error.attempts, 2)
    assert.match(error.message, new RegExp(`^GET /v1/clients/573\\*+251/thread failed: cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`))
  })
})

describe('timeouts', () => {
  let server
  before(async () => {
    server = await startFakeServer(() => 'hang')
  })
  after(async () => {
    await server.close()
  })

  test('a server that never answers fails with code timeout after timeoutMs', async () => {
    const started = Date.now()
    const error = await client(server.url, { timeoutMs: 150, retries: 0 })
      .getThreadId(PHONE)
      .then(() => assert.fail('should have thrown'), (e) => e)
    const elapsed = Date.now() - started
    assert.equal(error.code, 'timeout')
    assert.equal(error.status, null)
    assert.equal(error.retryable, true)
    assert.match(error.message, /^GET \/v1\/clients\/573\*+251\/thread failed: no answer within 150 ms$/)
    assert.ok(elapsed >= 140 && elapsed < 2000, `took ${elapsed} ms`)
  })

  test('each attempt has its own timeout, and a timed-out write is retried with the same key', async () => {
    const before = server.requests.length
    const error = await client(server.url, { timeoutMs: 100, retries: 2 })
      .recordMessage(PHONE, { role: 'assistant', content: 'Claro' })
      .then(() => assert.fail('should have thrown'), (e) => e)
    assert.equal(error.code, 'timeout')
    assert.equal(error.attempts, 3)
    const mine = server.requests.slice(before)
    assert.equal(mine.length, 3)
    assert.equal(new Set(mine.map((r) => r.headers['idempotency-key'])).size, 1)
  })
})

describe('errors', () => {
  test('an error answer that is not problem+json still says what happened', async () => {
    const server = await startFakeServer(() => ({ status: 502, body: '<html><body>Bad Gateway</body></html>' }))
    try {
      const error = await client(server.url, { retries: 0 })
        .client(PHONE)
        .then(() => assert.fail('should have thrown'), (e) => e)
      assert.equal(error.status, 502)
      assert.equal(error.code, 'http-502')
      assert.equal(error.detail, null)
      assert.equal(error.message, 'GET /v1/clients/573******251 failed: 502 http-502: <html><body>Bad Gateway</body></html>')
    } finally {
      await server.close()
    }
  })

  test('problem title is used when there is no detail', async () => {
    const server = await startFakeServer(() => ({ status: 401, body: { type: 'https://recuerdo.dev/problems/unauthorized', title: 'Missing or invalid API key', status: 401, code: 'unauthorized' } }))
    try {
      const error = await client(server.url)
        .history(PHONE)
        .then(() => assert.fail('should have thrown'), (e) => e)
      assert.equal(error.code, 'unauthorized')
      assert.equal(error.message, 'GET /v1/clients/573******251/messages failed: 401 unauthorized: Missing or invalid API key')
    } finally {
      await server.close()
    }
  })

  test('a 2xx answer that is not JSON is an invalid-response error', async () => {
    const server = await startFakeServer(() => ({ status: 200, body: 'ok' }))
    try {
      const error = await client(server.url)
        .getThread(PHONE)
        .then(() => assert.fail('should have thrown'), (e) => e)
      assert.equal(error.code, 'invalid-response')
      assert.equal(server.requests.length, 1)
    } finally {
      await server.close()
    }
  })

  test('bad arguments fail before any request', async () => {
    const server = await startFakeServer(() => ({ status: 500 }))
    try {
      const recuerdo = client(server.url)
      const cases = [
        [() => recuerdo.recordMessage('', { role: 'user', content: 'x' }), /^recordMessage: who must be/],
        [() => recuerdo.recordMessage(PHONE, { role: 'user' }), /^recordMessage: content must be a string/],
        [() => recuerdo.recordMessage(PHONE, { content: 'x' }), /^recordMessage: role must be a non-empty string/],
        [() => recuerdo.recordMessage(PHONE, { role: 'user', content: 'x', at: 12 }), /^recordMessage: a time must be a Date/],
        [() => recuerdo.saveThreadId(PHONE, ''), /^saveThreadId: threadId must be a non-empty string/],
        [() => recuerdo.pauseBot(PHONE, {}), /^pauseBot: by must be a non-empty string/],
        [() => recuerdo.recordBatch([]), /^recordBatch: messages must be a non-empty array/],
        [() => recuerdo.recordBatch([{ role: 'user', content: 'x' }]), /^recordBatch \(messages\[0\]\): who must be/],
        [() => recuerdo.recordBatch(Array.from({ length: 501 }, () => ({ who: PHONE, role: 'user', content: 'x' }))), /^recordBatch: at most 500 messages per batch, got 501/],
      ]
      for (const [call, message] of cases) {
        await assert.rejects(call(), (error) => error instanceof RecuerdoError && error.code === 'invalid-argument' && message.test(error.message))
      }
      assert.equal(server.requests.length, 0)
      assert.throws(() => new Recuerdo({ baseUrl: 'localhost:8080', apiKey: 'k' }), /baseUrl must be an http\(s\) URL/)
      assert.throws(() => new Recuerdo({ baseUrl: server.url }), /apiKey is required/)
      assert.throws(() => new Recuerdo({ baseUrl: server.url, apiKey: 'k', retries: -1 }), /retries must be a number >= 0/)
    } finally {
      await server.close()
    }
  })
})

describe('requests', () => {
  test('routes, encoding, auth and bodies follow docs/api.md', async () => {
    const server = await startFakeServer((request) => {
      if (request.method === 'POST' && request.path.endsWith('/messages')) return { status: 201, body: messageAnswer(request) }
      if (request.path === '/v1/messages/batch') {
        return { status: 200, body: { results: request.json.messages.map((m) => ({ created: true, message: { ...m, id: 1 } })) } }
      }
      return { status: 200, body: { items: [], next_cursor: null, thread_id: null, provider: null, paused: false } }
    })
    try {
      const recuerdo = client(`${server.url}/`)
      const jid = '573003913251@s.whatsapp.net'
      await recuerdo.saveThreadId(jid, 'thread_abc', { provider: 'openai-assistants' })
      assert.equal(await recuerdo.getThreadId('123456789@lid'), null)
      await recuerdo.recordMessage(PHONE, {
        role: 'assistant',
        content: 'Su pedido llega mañana',
        at: new Date(Date.UTC(2025, 0, 31, 14, 0, 0)),
        threadId: 'thread_abc',
        contentType: 'text',
        metadata: { intentType: 'delivery' },
        profileName: 'Ana',
      })
      const batch = await recuerdo.recordBatch([
        { who: PHONE, role: 'user', content: 'uno' },
        { who: PHONE, role: 'user', content: 'dos', externalId: 'wamid.2' },
      ])
      await recuerdo.history(PHONE, { limit: 10, role: ['user', 'assistant'], conversationId: 3 })
      await recuerdo.updateClient(PHONE, { customerName: 'Ana', addTags: ['vip'], attributes: { city: null } })
      await recuerdo.clients({ tag: 'vip', activeSince: new Date(Date.UTC(2025, 0, 1)) })
      await recuerdo.conversations(PHONE, { limit: 5 })
      await recuerdo.pauseBot(PHONE, { by: 'operator:ana', reason: 'reclamo' })
      await recuerdo.resumeBot(PHONE)
      await recuerdo.context(PHONE, '¿y mi pedido?', { lang: 'es' })
      await recuerdo.search('pedido', { who: PHONE, limit: 3 })

      const seen = server.requests.map((r) => `${r.method} ${r.rawPath}`)
      assert.deepEqual(seen, [
        'PUT /v1/clients/573003913251%40s.whatsapp.net/thread',
        'GET /v1/clients/123456789%40lid/thread',
        'POST /v1/clients/573003913251/messages',
        'POST /v1/messages/batch',
        'GET /v1/clients/573003913251/messages',
        'PATCH /v1/clients/573003913251',
        'GET /v1/clients',
        'GET /v1/clients/573003913251/conversations',
        'POST /v1/clients/573003913251/handoff',
        'DELETE /v1/clients/573003913251/handoff',
        'GET /v1/clients/573003913251/context',
        'GET /v1/search',
      ])
      for (const request of server.requests) assert.equal(request.headers.authorization, 'Bearer recuerdo_test_key')
      const [put, , record, batchRequest, history, patch, clients, , pause, , context, search] = server.requests
      assert.deepEqual(put.json, { thread_id: 'thread_abc', provider: 'openai-assistants' })
      assert.equal(put.headers['content-type'], 'application/json')
      assert.deepEqual({ ...record.json, external_id: 'x' }, {
        role: 'assistant',
        content: 'Su pedido llega mañana',
        at: '2025-01-31T14:00:00.000Z',
        thread_id: 'thread_abc',
        content_type: 'text',
        metadata: { intentType: 'delivery' },
        profile_name: 'Ana',
        external_id: 'x',
      })
      assert.match(batchRequest.json.messages[0].external_id, /^[0-9a-f-]{36}$/)
      assert.equal(batchRequest.json.messages[1].external_id, 'wamid.2')
      assert.deepEqual(batchRequest.json.messages.map((m) => m.who), [PHONE, PHONE])
      assert.equal(batch.results.length, 2)
      assert.deepEqual(history.query.getAll('role'), ['user', 'assistant'])
      assert.equal(history.query.get('limit'), '10')
      assert.equal(history.query.get('conversation_id'), '3')
      assert.deepEqual(patch.json, { customer_name: 'Ana', add_tags: ['vip'], attributes: { city: null } })
      assert.equal(clients.query.get('active_since'), '2025-01-01T00:00:00.000Z')
      assert.deepEqual(pause.json, { by: 'operator:ana', reason: 'reclamo' })
      assert.equal(context.query.get('text'), '¿y mi pedido?')
      assert.equal(context.query.get('lang'), 'es')
      assert.equal(search.query.get('q'), 'pedido')
      assert.equal(search.query.get('who'), PHONE)
    } finally {
      await server.close()
    }
  })

  test('health routes send no API key', async () => {
    const server = await startFakeServer((request) => ({ status: 200, body: { status: request.path === '/healthz' ? 'ok' : 'ready' } }))
    try {
      const recuerdo = client(server.url)
      assert.deepEqual(await recuerdo.health(), { status: 'ok' })
      assert.deepEqual(await recuerdo.ready(), { status: 'ready' })
      for (const request of server.requests) assert.equal(request.headers.authorization, undefined)
    } finally {
      await server.close()
    }
  })

  test('maskPath hides the middle of phone numbers', () => {
    assert.equal(maskPath('/v1/clients/573003913251/thread'), '/v1/clients/573******251/thread')
    assert.equal(maskPath('/v1/clients/123456789012345%40lid'), '/v1/clients/123*********345%40lid')
    assert.equal(maskPath('/v1/search'), '/v1/search')
  })
})
