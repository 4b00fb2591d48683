// A kubectl that records every call and fails: bad-input tests put it first in PATH to prove that
// an action stopped before it touched any cluster (the calls file never appears).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export function recordingKubectl(dir: string): { env: { PATH: string }; calls: string } {
  const bin = join(dir, 'bin')
  const calls = join(dir, 'calls')
  mkdirSync(bin, { recursive: true })
  writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\necho "$@" >> ${calls}\nexit 1\n`)
  chmodSync(join(bin, 'kubectl'), 0o755)
  return { env: { PATH: `${bin}:${process.env.PATH}` }, calls }
}
