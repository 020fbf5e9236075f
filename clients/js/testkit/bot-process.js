// A BuilderBot bot in a process of its own, driven over IPC by the integration tests so that
// they can stop it and start a new one ("the bot restarts"). It is configured the way a real bot
// would be: RECUERDO_URL and RECUERDO_API_KEY in the environment, the module-level helpers, and
// RecuerdoDB as createBot's database.

import { RecuerdoDB, getRecuerdo } from '../src/builderbot.js'
import { startTestBot } from './bot-harness.js'
import { testFlows } from './flows.js'

const { say, database } = await startTestBot({
  flows: testFlows(getRecuerdo()),
  database: (provider) => new RecuerdoDB({ provider }),
})

process.on('message', async (request) => {
  try {
    if (request.cmd === 'say') {
      const answers = await say(request.from, request.body, { expect: request.expect })
      process.send({ id: request.id, ok: true, answers })
    } else if (request.cmd === 'exit') {
      await database.flush()
      process.send({ id: request.id, ok: true }, () => process.exit(0))
    } else {
      process.send({ id: request.id, ok: false, error: `unknown command ${request.cmd}` })
    }
  } catch (error) {
    process.send({ id: request.id, ok: false, error: error.stack ?? String(error) })
  }
})

process.send({ ready: true })
