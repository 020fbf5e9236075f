// Drives a real BuilderBot bot with BuilderBot's own test tooling (TestTool.TestProvider), as
// BuilderBot's tests do: messages go in through provider.delaySendMessage(…, 'message', …) and
// what the bot sends is collected from its 'send_message' event.

import { createBot, createFlow, TestTool } from '@builderbot/bot'

/**
 * @param {{ flows: object[], database: (provider) => object }} options
 */
export async function startTestBot({ flows, database: makeDatabase }) {
  const provider = new TestTool.TestProvider()
  const database = makeDatabase(provider)
  const bot = await createBot({ flow: createFlow(flows), provider, database })
  const sent = []
  bot.on('send_message', ({ from, answer }) => sent.push({ from, answer }))

  /** Sends `body` from `from`; resolves with the answers once `expect` of them have been sent. */
  async function say(from, body, { expect, timeoutMs = 10_000 } = {}) {
    const start = sent.length
    await provider.delaySendMessage(0, 'message', { from, body, name: 'Ana' })
    const answers = () => sent.slice(start).filter((m) => m.from === from).map((m) => m.answer)
    if (expect === undefined) throw new Error('say(): pass { expect: n }, the number of answers to wait for')
    await waitFor(() => answers().length >= expect, timeoutMs, () => `waiting for ${expect} answers to ${JSON.stringify(body)}, got ${JSON.stringify(answers())}`)
    // Nothing more should follow: give the bot a moment, then let pending recordings finish.
    await sleep(150)
    if (typeof database.flush === 'function') await database.flush()
    return answers()
  }

  return { bot, provider, database, sent, say }
}

export async function waitFor(condition, timeoutMs, describe) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`)
    await sleep(20)
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
