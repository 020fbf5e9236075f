// The BuilderBot adapter driven by a real BuilderBot bot (TestTool.TestProvider) against an
// in-memory stand-in of recuerdo's bot routes: what gets recorded, in which order, and how the
// handoff flag keeps the bot quiet. test/integration.test.js does the same against `recuerdo serve`.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { addKeyword, utils } from '@builderbot/bot'

import { Recuerdo, RecuerdoError } from '../src/index.js'
import { RecuerdoDB, createRecuerdoHelpers } from '../src/builderbot.js'
import { startTestBot } from '../testkit/bot-harness.js'
import { startFakeRecuerdo } from '../testkit/fake-recuerdo.js'
import { ASK_NAME, GREETING, HANDOFF, ORDER_STATUS, testFlows } from '../testkit/flows.js'

const PHONE = '573003913251'

function clientFor(server, options = {}) {
  return new Recuerdo({ baseUrl: server.url, apiKey: 'recuerdo_test', retryDelayMs: 5, ...options })
}

function transcript(messages, who = PHONE) {
  return messages.filter((m) => m.who === who).map((m) => `${m.role}: ${m.content}`)
}

describe('RecuerdoDB with the provider watched', () => {
  test('records the client and the bot in order, once each, without flow markers', async () => {
    const server = await startFakeRecuerdo()
    try {
      const recuerdo = clientFor(server)
      const { say, database } = await startTestBot({
        flows: testFlows(recuerdo),
        database: (provider) => new RecuerdoDB({ recuerdo, provider }),
      })
      assert.deepEqual(await say(PHONE, 'hola', { expect: 2 }), [GREETING, ASK_NAME])
      const [thanks] = await say(PHONE, 'Ana', { expect: 1 })
      const threadId = server.threads.get(PHONE)
      assert.match(threadId, /^thread_[0-9a-f-]{36}$/)
      assert.equal(thanks, `Gracias Ana. Tu conversación es ${threadId}.`)

      assert.deepEqual(transcript(server.messages), ['user: hola', `assistant: ${GREETING}`, `assistant: ${ASK_NAME}`, 'user: Ana', `assistant: ${thanks}`])
      const times = server.messages.map((m) => Date.parse(m.at))
      assert.deepEqual([...times].sort((a, b) => a - b), times, 'times increase with the order of the conversation')
      assert.equal(new Set(server.messages.map((m) => m.external_id)).size, server.messages.length)
      const incoming = server.messages.filter((m) => m.role === 'user')
      assert.ok(incoming.every((m) => m.profile_name === 'Ana'))

      // BuilderBot's own view is kept as MemoryDB keeps it (flow steps included).
      const answers = database.listHistory.map((ctx) => ctx.answer)
      assert.deepEqual(answers, [GREETING, ASK_NAME, '__capture_only_intended__', 'Ana', thanks])
      assert.equal(database.listHistory[2].options.capture, true)
      assert.equal((await database.getPrevByNumber(PHONE)).from, PHONE)
    } finally {
      await server.close()
    }
  })

  test('a paused client is recorded but gets no answer; resumed, the bot answers again', async () => {
    const server = await startFakeRecuerdo()
    try {
      const recuerdo = clientFor(server)
      const helpers = createRecuerdoHelpers(recuerdo)
      const { say } = await startTestBot({
        flows: testFlows(recuerdo),
        database: (provider) => new RecuerdoDB({ recuerdo, provider }),
      })
      assert.deepEqual(await say(PHONE, 'asesor', { expect: 1 }), [HANDOFF])
      assert.equal(await helpers.isBotPaused(PHONE), true)
      assert.deepEqual(await say(PHONE, 'hola', { expect: 0 }), [])
      assert.deepEqual(transcript(server.messages), ['user: asesor', `assistant: ${HANDOFF}`, 'user: hola'])

      await helpers.resumeBot(PHONE)
      assert.deepEqual(await say(PHONE, 'hola', { expect: 2 }), [GREETING, ASK_NAME])
    } finally {
      await server.close()
    }
  })

  test('media events are recorded with their content type', async () => {
    const server = await startFakeRecuerdo()
    try {
      const recuerdo = clientFor(server)
      const { provider, database } = await startTestBot({
        flows: testFlows(recuerdo),
        database: (p) => new RecuerdoDB({ recuerdo, provider: p }),
      })
      await provider.delaySendMessage(0, 'message', {
        from: PHONE,
        body: '_event_media__0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f',
        key: { id: 'wamid.MEDIA1' },
        message: { imageMessage: { caption: 'foto del recibo' } },
      })
      await provider.delaySendMessage(0, 'message', {
        from: PHONE,
        body: '_event_voice_note__0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f',
        key: { id: 'wamid.VOICE1' },
      })
      await database.flush()
      const recorded = server.messages.map((m) => [m.content_type, m.content, m.external_id])
      assert.deepEqual(recorded, [
        ['image', 'foto del recibo', 'wamid.MEDIA1'],
        ['audio', '[audio]', 'wamid.VOICE1'],
      ])
    } finally {
      await server.close()
    }
  })

  test('a redelivered WhatsApp message (same key.id) is stored once', async () => {
    const server = await startFakeRecuerdo()
    try {
      const recuerdo = clientFor(server)
      const { provider, database } = await startTestBot({
        flows: [],
        database: (p) => new RecuerdoDB({ recuerdo, provider: p }),
      })
      for (let i = 0; i < 2; i++) {
        await provider.delaySendMessage(0, 'message', { from: PHONE, body: 'buenas', key: { id: 'wamid.SAME' } })
      }
      await database.flush()
      assert.equal(server.requests.filter((r) => r.method === 'POST').length, 2)
      assert.deepEqual(transcript(server.messages), ['user: buenas'])
    } finally {
      await server.close()
    }
  })

  test('a flow started with bot.dispatch() is answered and recorded, the event itself is not', async () => {
    const server = await startFakeRecuerdo()
    try {
      const recuerdo = clientFor(server)
      const reminder = addKeyword(utils.setEvent('RECORDATORIO')).addAnswer('Recuerda tu cita de mañana a las 10:00')
      const { say } = await startTestBot({
        flows: [...testFlows(recuerdo), reminder],
        database: (provider) => new RecuerdoDB({ recuerdo, provider }),
      })
      assert.deepEqual(await say(PHONE, utils.setEvent('RECORDATORIO'), { expect: 1 }), ['Recuerda tu cita de mañana a las 10:00'])
      assert.deepEqual(transcript(server.messages), ['assistant: Recuerda tu cita de mañana a las 10:00'])
    } finally {
      await server.close()
    }
  })

  test('enrichContextWithHistory updates state only for a returning client', async () => {
    const server = await startFakeRecuerdo()
    try {
      const recuerdo = clientFor(server)
      const { say } = await startTestBot({
        flows: testFlows(recuerdo),
        database: (provider) => new RecuerdoDB({ recuerdo, provider }),
      })
      assert.deepEqual(await say(PHONE, 'pedido', { expect: 2 }), ['Bienvenido.', ORDER_STATUS])
      const old = new Date(Date.now() - 45 * 86_400_000)
      await recuerdo.recordMessage('573001112233', { role: 'user', content: 'Quiero unos zapatos', at: old })
      assert.deepEqual(await say('573001112233', 'pedido', { expect: 2 }), ['Bienvenido de nuevo. Cliente que vuelve.', ORDER_STATUS])
    } finally {
      await server.close()
    }
  })
})

describe('RecuerdoDB without the provider', () => {
  test('records the bot and the answers to capture steps, and stopIfBotPaused guards a flow', async () => {
    const server = await startFakeRecuerdo()
    try {
      const recuerdo = clientFor(server)
      const { say } = await startTestBot({
        flows: testFlows(recuerdo, { guard: true }),
        database: () => new RecuerdoDB({ recuerdo }),
      })
      assert.deepEqual(await say(PHONE, 'hola', { expect: 2 }), [GREETING, ASK_NAME])
      const [thanks] = await say(PHONE, 'Ana', { expect: 1 })
      // Without the provider BuilderBot only hands over the answer to a capture step.
      assert.deepEqual(transcript(server.messages), [`assistant: ${GREETING}`, `assistant: ${ASK_NAME}`, 'user: Ana', `assistant: ${thanks}`])

      await createRecuerdoHelpers(recuerdo).pauseBot(PHONE, 'operator:ana', 'reclamo')
      assert.deepEqual(await say(PHONE, 'hola', { expect: 0 }), [])
    } finally {
      await server.close()
    }
  })
})

describe('RecuerdoDB when recuerdo fails', () => {
  test('save() rejects with a RecuerdoError that says what failed', async () => {
    const server = await startFakeRecuerdo({ failMessages: true })
    try {
      const database = new RecuerdoDB({ recuerdo: clientFor(server, { retries: 1 }) })
      const error = await database
        .save({ from: PHONE, answer: 'Hola', keyword: 'key_1', ref: 'ans_1', options: { media: null, buttons: [], capture: false, delay: 0 } })
        .then(() => assert.fail('should have thrown'), (e) => e)
      assert.ok(error instanceof RecuerdoError)
      assert.equal(error.code, 'storage-error')
      assert.equal(error.attempts, 2)
      assert.match(error.message, /^POST \/v1\/clients\/573\*+251\/messages failed: 503 storage-error: database is locked$/)
      // The flow step is kept all the same, so the conversation can go on.
      assert.equal((await database.getPrevByNumber(PHONE)).answer, 'Hola')
    } finally {
      await server.close()
    }
  })

  test('with onError the bot keeps answering and every failure is reported', async () => {
    const server = await startFakeRecuerdo({ failMessages: true })
    try {
      const recuerdo = clientFor(server, { retries: 0 })
      const failures = []
      const { say } = await startTestBot({
        flows: testFlows(recuerdo),
        database: (provider) => new RecuerdoDB({ recuerdo, provider, onError: (error, info) => failures.push([error.code, info.role, info.action]) }),
      })
      assert.deepEqual(await say(PHONE, 'hola', { expect: 2 }), [GREETING, ASK_NAME])
      assert.deepEqual(failures, [
        ['storage-error', 'user', 'record'],
        ['storage-error', 'assistant', 'record'],
        ['storage-error', 'assistant', 'record'],
      ])
    } finally {
      await server.close()
    }
  })

  test('without any configuration the bot still gets every message, and the failure is reported', async () => {
    delete process.env.RECUERDO_URL
    delete process.env.RECUERDO_API_KEY
    const failures = []
    const flow = addKeyword(['hola']).addAnswer('¡Hola!')
    const { say } = await startTestBot({
      flows: [flow],
      database: (provider) => new RecuerdoDB({ provider, onError: (error) => failures.push(error.message) }),
    })
    assert.deepEqual(await say(PHONE, 'hola', { expect: 1 }), ['¡Hola!'])
    assert.deepEqual(await say(PHONE, 'hola', { expect: 1 }), ['¡Hola!'])
    assert.ok(failures.length >= 2)
    assert.match(failures[0], /recuerdo is not configured: call configureRecuerdo\(\{ baseUrl, apiKey \}\) or set RECUERDO_URL and RECUERDO_API_KEY/)
  })

  test('bad options are refused', () => {
    assert.throws(() => new RecuerdoDB({ recuerdo: { baseUrl: 'http://127.0.0.1:1', apiKey: 'k' }, historyLimit: -1 }), /historyLimit must be an integer >= 0/)
    assert.throws(() => new RecuerdoDB({ recuerdo: { baseUrl: 'http://127.0.0.1:1', apiKey: 'k' }, provider: {} }), /provider must be a BuilderBot provider/)
    assert.throws(() => new RecuerdoDB({ recuerdo: { baseUrl: 'http://127.0.0.1:1', apiKey: 'k' }, onError: 'log' }), /onError must be a function/)
  })
})
