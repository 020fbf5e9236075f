// Compiled (never run) by test/types.test.js: the declarations must accept what the README shows
// and reject misuse marked with @ts-expect-error.

import { Recuerdo, RecuerdoError, type Client, type Handoff, type Recorded } from 'recuerdo-client'
import {
  RecuerdoDB,
  configureRecuerdo,
  createRecuerdoHelpers,
  enrichContextWithHistory,
  getThreadId,
  isBotPaused,
  pauseBot,
  resumeBot,
  saveMessageToHistory,
  saveThreadId,
  stopIfBotPaused,
} from 'recuerdo-client/builderbot'

async function usage(): Promise<void> {
  const recuerdo = new Recuerdo({ baseUrl: 'http://127.0.0.1:8080', apiKey: 'k', timeoutMs: 5000, retries: 3 })
  configureRecuerdo(recuerdo)
  configureRecuerdo({ baseUrl: 'http://127.0.0.1:8080', apiKey: 'k' })

  const saved: true = await saveThreadId('573003913251@s.whatsapp.net', 'thread_1')
  const thread: string | null = await getThreadId('573003913251')
  const message = await saveMessageToHistory('573003913251', 'manual_operator', 'Hola', thread)
  const role: 'user' | 'assistant' | 'manual_operator' | 'system' = message.role
  const state = { update: async (_: Record<string, unknown>) => {} }
  const returning: boolean = await enrichContextWithHistory('573003913251', state, 'hola')
  const handoff: Handoff = await pauseBot('573003913251', 'bot', 'pidió asesor')
  await resumeBot('573003913251')
  const paused: boolean = await isBotPaused('573003913251')
  await stopIfBotPaused({ from: '573003913251', body: 'hola' }, { endFlow: () => undefined })

  const recorded: Recorded = await recuerdo.recordMessage('573003913251', {
    role: 'user',
    content: 'hola',
    at: new Date(),
    externalId: 'wamid.1',
    metadata: { topics: ['envío'] },
  })
  const created: boolean = recorded.created
  const client: Client = await recuerdo.client('573003913251')
  const tags: string[] = client.tags
  const page = await recuerdo.history('573003913251', { limit: 10, role: ['user', 'assistant'] })
  const cursor: string | null = page.next_cursor
  const context = await recuerdo.context('573003913251', 'hola', { lang: 'es' })
  const note: string | null = context.note
  const batch = await recuerdo.recordBatch([{ who: '573003913251', role: 'assistant', content: 'ok' }])
  const first: Recorded | undefined = batch.results[0]

  const helpers = createRecuerdoHelpers(recuerdo)
  await helpers.saveThreadId('573003913251', 'conv_1')

  const database = new RecuerdoDB({
    recuerdo,
    provider: { emit: () => true },
    historyLimit: 100,
    onError: (error: RecuerdoError, failure) => {
      const code: string = error.code
      const status: number | null = error.status
      const action: 'record' | 'handoff-check' = failure.action
      void [code, status, action]
    },
  })
  await database.save({ from: '573003913251', answer: 'hola' })
  await database.getPrevByNumber('573003913251')
  await database.flush()
  const history: any[] = database.listHistory

  // @ts-expect-error role must be one of the four roles
  await recuerdo.recordMessage('573003913251', { role: 'bot', content: 'x' })
  // @ts-expect-error content is required
  await recuerdo.recordMessage('573003913251', { role: 'user' })
  // @ts-expect-error apiKey is required
  new Recuerdo({ baseUrl: 'http://127.0.0.1:8080' })
  // @ts-expect-error pauseBot takes { by, reason }
  await recuerdo.pauseBot('573003913251', 'bot')

  void [saved, role, returning, handoff, paused, created, tags, cursor, note, first, history]
}

void usage
