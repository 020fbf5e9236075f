// Starts a real `recuerdo serve` on 127.0.0.1 with a given SQLite file, for the integration
// tests. Fails (never skips) when the server cannot start, with what it printed.

import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const ADMIN_KEY_LINE = /Admin API key:\s*(\S+)/

export async function freePort() {
  const server = createServer()
  await new Promise((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address()
  await new Promise((done) => server.close(done))
  return port
}

/**
 * @param {{ dbPath: string, startTimeoutMs?: number }} options
 * @returns {Promise<{ url: string, adminKey: string | null, output: () => string, stop: () => Promise<void> }>}
 */
export async function startRecuerdoServe({ dbPath, startTimeoutMs = 60_000 }) {
  const port = await freePort()
  const python = process.env.RECUERDO_PYTHON || 'python3'
  const args = ['-m', 'recuerdo', 'serve', '--host', '127.0.0.1', '--port', String(port), '--db', `sqlite:///${dbPath}`]
  const env = {
    ...process.env,
    PYTHONUNBUFFERED: '1',
    // Run the repository's own code even when the package is not installed in editable mode.
    PYTHONPATH: [resolve(REPO_ROOT, 'src'), process.env.PYTHONPATH].filter(Boolean).join(':'),
  }
  const child = spawn(python, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let adminKey = null
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })))
  let exitInfo = null
  exited.then((info) => {
    exitInfo = info
  })
  child.once('error', (error) => {
    output += `\n[spawn error] ${error.message}`
    exitInfo = { code: null, signal: null, error }
  })
  const onData = (chunk) => {
    output += chunk.toString('utf8')
    const found = ADMIN_KEY_LINE.exec(output)
    if (found && adminKey === null) adminKey = found[1]
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)

  const url = `http://127.0.0.1:${port}`
  const command = `${python} ${args.join(' ')}`
  const deadline = Date.now() + startTimeoutMs
  for (;;) {
    if (exitInfo !== null) {
      throw new Error(`recuerdo serve did not start (${command}) — exited with ${exitInfo.code ?? exitInfo.signal ?? exitInfo.error?.message}:\n${output}`)
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`recuerdo serve did not answer ${url}/readyz within ${startTimeoutMs} ms (${command}):\n${output}`)
    }
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })
      // The admin key is printed before the server listens, but give the pipe a moment.
      if (response.ok) break
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100))
  }
  await new Promise((done) => setTimeout(done, 50))

  return {
    url,
    get adminKey() {
      return adminKey
    },
    output: () => output,
    async stop() {
      if (exitInfo !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/**
 * A fresh `recuerdo serve` on a new temporary database, with the admin key it printed and a bot
 * key created through the API. `cleanup()` stops the server and removes the database.
 */
export async function startFreshServe() {
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { Recuerdo } = await import('../src/index.js')
  const dir = await mkdtemp(join(tmpdir(), 'recuerdo-js-'))
  const dbPath = join(dir, 'r.db')
  const fixture = { dir, dbPath, server: null, adminKey: null, botKey: null }
  fixture.cleanup = async () => {
    await fixture.server?.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    fixture.server = await startRecuerdoServe({ dbPath })
    fixture.adminKey = fixture.server.adminKey
    if (!/^rcd_\S+$/.test(fixture.adminKey ?? '')) {
      throw new Error(`the first start prints "Admin API key: rcd_…"; it printed:\n${fixture.server.output()}`)
    }
    const admin = new Recuerdo({ baseUrl: fixture.server.url, apiKey: fixture.adminKey })
    const created = await admin.createKey({ name: 'builderbot', scope: 'bot' })
    if (created.scope !== 'bot') throw new Error(`POST /v1/keys answered scope ${created.scope}, asked for bot`)
    fixture.botKey = created.key
    return fixture
  } catch (error) {
    await fixture.cleanup()
    throw error
  }
}
