// The type declarations compile, accept what the README shows and reject misuse.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)

test('index.d.ts and builderbot.d.ts type-check a typical bot (tsc --strict)', async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const project = fileURLToPath(new URL('../testkit/tsconfig.json', import.meta.url))
  const result = await run(process.execPath, [tsc, '--project', project], { encoding: 'utf8' }).catch((error) => error)
  assert.equal(result.code ?? 0, 0, `tsc reported:\n${result.stdout}${result.stderr}`)
})
