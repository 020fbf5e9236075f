// The flows of the test bot: a greeting that captures the name and keeps an LLM thread id per
// client, a handoff to a human, and a returning-customer greeting.

import { randomUUID } from 'node:crypto'

import { addKeyword } from '@builderbot/bot'

import { createRecuerdoHelpers } from '../src/builderbot.js'

export const GREETING = '¡Hola! Soy el asistente de la tienda.'
export const ASK_NAME = '¿Cómo te llamas?'
export const HANDOFF = 'Te comunico con un asesor humano.'
export const ORDER_STATUS = 'Tu pedido está en camino.'

export function testFlows(recuerdo, { guard = false } = {}) {
  const { getThreadId, saveThreadId, pauseBot, enrichContextWithHistory, stopIfBotPaused } = createRecuerdoHelpers(recuerdo)

  let greeting = addKeyword(['hola'])
  if (guard) greeting = greeting.addAction(stopIfBotPaused)
  greeting = greeting
    .addAnswer(GREETING)
    .addAnswer(ASK_NAME, { capture: true }, async (ctx, { flowDynamic }) => {
      let threadId = await getThreadId(ctx.from)
      if (threadId === null) {
        threadId = `thread_${randomUUID()}`
        await saveThreadId(ctx.from, threadId)
      }
      await flowDynamic(`Gracias ${ctx.body}. Tu conversación es ${threadId}.`)
    })

  const handoff = addKeyword(['asesor']).addAnswer(HANDOFF, null, async (ctx) => {
    await pauseBot(ctx.from, 'bot', 'el cliente pidió un asesor')
  })

  const order = addKeyword(['pedido']).addAction(async (ctx, { state, flowDynamic }) => {
    const returning = await enrichContextWithHistory(ctx.from, state, ctx.body)
    const note = state.get('historical_context')
    await flowDynamic(returning ? `Bienvenido de nuevo. ${note}` : 'Bienvenido.')
    await flowDynamic(ORDER_STATUS)
  })

  return [greeting, handoff, order]
}
