// The returning-customer context and search on a real `recuerdo serve`: the seed's
// enrichContextWithHistory inside a real BuilderBot bot, and the context JSON the client types.

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { Recuerdo } from '../src/index.js'
import { RecuerdoDB } from '../src/builderbot.js'
import { startTestBot } from '../testkit/bot-harness.js'
import { ORDER_STATUS, testFlows } from '../testkit/flows.js'
import { startFreshServe } from '../testkit/recuerdo-serve.js'

const DAY_MS = 86_400_000

let fixture
let bot
let admin

before(async () => {
  fixture = await startFreshServe()
  bot = new Recuerdo({ baseUrl: fixture.server.url, apiKey: fixture.botKey })
  admin = new Recuerdo({ baseUrl: fixture.server.url, apiKey: fixture.adminKey })
})

after(async () => {
  await fixture?.cleanup()
})

async function backdatedConversation(who, daysAgo) {
  const start = Date.now() - daysAgo * DAY_MS
  await bot.recordMessage(who, { role: 'user', content: 'Quiero unas botas de cuero talla 38', at: new Date(start - 60_000), profileName: 'Marta' })
  await bot.recordMessage(who, { role: 'assistant', content: 'Las botas talla 38 llegan el viernes a su casa', at: new Date(start) })
}

describe('GET /v1/clients/{who}/context', () => {
  test('a client back after 45 days is returning, with a note; one seen 3 days ago is not', async () => {
    await backdatedConversation('573001110002', 45)
    const context = await bot.context('573001110002', '¿Ya enviaron mis botas?')
    assert.equal(context.is_returning, true)
    assert.equal(context.is_known, true)
    assert.equal(context.days_since, 45)
    assert.equal(typeof context.note, 'string')
    assert.match(context.note, /45/)
    assert.ok(Array.isArray(context.rehydration_messages))

    await backdatedConversation('573001110003', 3)
    const recent = await bot.context('573001110003', 'hola')
    assert.equal(recent.is_returning, false)
    assert.equal(recent.days_since, 3)

    const unknown = await bot.context('573001110004')
    assert.equal(unknown.is_returning, false)
    assert.equal(unknown.is_known, false)
  })

  test('enrichContextWithHistory in a BuilderBot flow updates state only for a returning client', async () => {
    const { say } = await startTestBot({ flows: testFlows(bot), database: (provider) => new RecuerdoDB({ recuerdo: bot, provider }) })
    assert.deepEqual(await say('573001110005', 'pedido', { expect: 2 }), ['Bienvenido.', ORDER_STATUS])

    await backdatedConversation('573001110006', 45)
    const [welcome, status] = await say('573001110006', 'pedido', { expect: 2 })
    assert.match(welcome, /^Bienvenido de nuevo\. \S/)
    assert.match(welcome, /45/, 'the note says how many days have passed')
    assert.equal(status, ORDER_STATUS)
  })
})

describe('GET /v1/search', () => {
  test('finds a client message by its words', async () => {
    await backdatedConversation('573001110007', 10)
    const found = await admin.search('botas', { who: '573001110007' })
    assert.ok(found.items.length >= 1, JSON.stringify(found))
    const [best] = found.items
    assert.equal(best.kind, 'message')
    assert.match(best.snippet, /«botas»/i)
    assert.match(best.message.content, /botas/)
    assert.equal(typeof best.score, 'number')
  })
})
