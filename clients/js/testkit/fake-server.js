// A scripted HTTP server on 127.0.0.1 for the client's unit tests: each request is recorded and
// answered by the test's handler, which may also hang or drop the connection.

import { createServer } from 'node:http'

/**
 * @param {(request: {method, url, path, query, headers, body, json, n}) => (
 *   {status?: number, headers?: object, body?: unknown} | 'hang' | 'drop' | Promise<...>)} handler
 */
export async function startFakeServer(handler) {
  const requests = []
  const sockets = new Set()
  const server = createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const raw = Buffer.concat(chunks).toString('utf8')
    const url = new URL(req.url, 'http://127.0.0.1')
    let json = null
    try {
      json = raw ? JSON.parse(raw) : null
    } catch {
      json = null
    }
    const request = {
      method: req.method,
      url: req.url,
      path: url.pathname,
      rawPath: req.url.split('?')[0],
      query: url.searchParams,
      headers: req.headers,
      body: raw,
      json,
      n: requests.length + 1,
    }
    requests.push(request)
    const answer = await handler(request)
    if (answer === 'hang') return
    if (answer === 'drop') {
      req.socket.destroy()
      return
    }
    const { status = 200, headers = {}, body } = answer ?? {}
    const isText = typeof body === 'string'
    const payload = body === undefined ? '' : isText ? body : JSON.stringify(body)
    const contentType = isText ? 'text/html' : status >= 400 ? 'application/problem+json' : 'application/json'
    res.writeHead(status, { 'Content-Type': contentType, ...headers })
    res.end(payload)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A problem+json answer as recuerdo gives it. */
export function problem(status, code, detail) {
  return {
    status,
    body: { type: `https://recuerdo.dev/problems/${code}`, title: code, status, detail, code },
  }
}
