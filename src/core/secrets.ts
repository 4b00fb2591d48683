// One registry of secret values: masked by the runner (core.setSecret) and redacted by us in
// anything we print or write, including files read later by tests.
import * as core from '@actions/core'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const known = new Set<string>()

/** Registers a secret and everything derived from it that might be printed (e.g. base64). */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 3) return
  for (const v of [value, Buffer.from(value).toString('base64')]) {
    if (!known.has(v)) {
      known.add(v)
      core.setSecret(v)
    }
  }
}

export function redact(text: string): string {
  let out = text
  // Longest first, so a secret that contains another is not half-replaced.
  for (const s of [...known].sort((a, b) => b.length - a.length)) out = out.split(s).join('***')
  return out
}

export function containsSecret(text: string): boolean {
  for (const s of known) if (text.includes(s)) return true
  return false
}

const tempDirs: string[] = []

/** Writes content to a fresh file readable only by this user; removed by cleanupSecretFiles(). */
export function writeSecretFile(name: string, content: string): string {
  const dir = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'mr-secret-'))
  chmodSync(dir, 0o700)
  tempDirs.push(dir)
  const path = join(dir, name)
  writeFileSync(path, content, { mode: 0o600 })
  return path
}

export function cleanupSecretFiles(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true })
}
