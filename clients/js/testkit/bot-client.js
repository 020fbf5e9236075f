// The test's side of testkit/bot-process.js: start the bot process, talk to it, stop it.

import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./bot-process.js', import.meta.url))

export async function startBotProcess({ url, apiKey }) {
  const child = fork(SCRIPT, [], {
    env: { ...process.env, RECUERDO_URL: url, RECUERDO_API_KEY: apiKey },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let output = ''
  child.stdout.on('data', (c) => (output += c))
  child.stderr.on('data', (c) => (output += c))
  const waiting = new Map()
  let nextId = 1
  let exited = false
  const ready = new Promise((resolve, reject) => {
    child.on('message', (message) => {
      if (message.ready) return resolve()
      const pending = waiting.get(message.id)
      if (!pending) return
      waiting.delete(message.id)
      if (message.ok) pending.resolve(message)
      else pending.reject(new Error(`bot process: ${message.error}`))
    })
    child.once('exit', (code) => {
      exited = true
      const error = new Error(`bot process exited with ${code}:\n${output}`)
      reject(error)
      for (const pending of waiting.values()) pending.reject(error)
      waiting.clear()
    })
  })
  await ready

  function request(message) {
    if (exited) return Promise.reject(new Error(`bot process has exited:\n${output}`))
    const id = nextId++
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject })
      child.send({ ...message, id })
    })
  }

  return {
    pid: child.pid,
    output: () => output,
    async say(from, body, { expect }) {
      const { answers } = await request({ cmd: 'say', from, body, expect })
      return answers
    },
    async stop() {
      if (exited) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      await request({ cmd: 'exit' })
      await gone
    },
  }
}
