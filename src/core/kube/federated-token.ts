// The federated token file kubelogin (workload identity mode) reads on every token request
// (AZURE_FEDERATED_TOKEN_FILE). The action fills it with a GitHub ID token and writes a new one
// before the old one expires, so that a rebuild lasting hours never presents a stale assertion.
// Written atomically (temp file + rename) and 0600: a kubelogin started mid-refresh reads
// either the old or the new token, never half of one.
import { renameSync, writeFileSync } from 'node:fs'
import { registerSecret } from '../secrets.ts'

export interface TokenFileOptions {
  /** Fetches a fresh ID token (core.getIDToken with the Entra exchange audience). */
  fetch: () => Promise<string>
  log: (line: string) => void
  now?: () => number
}

/** The `exp` claim of a JWT in ms, without verifying it (the issuer verifies); undefined if absent. */
export function jwtExpiry(token: string): number | undefined {
  const body = token.split('.')[1]
  if (!body) return undefined
  try {
    const exp = (JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { exp?: unknown }).exp
    return typeof exp === 'number' ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}

/** When to fetch again: a third of the lifetime before expiry, at least 30 s before it. */
export function refreshAt(issuedMs: number, expiresMs: number): number {
  const life = Math.max(0, expiresMs - issuedMs)
  return expiresMs - Math.max(30_000, life / 3)
}

export class FederatedTokenFile {
  readonly path: string
  private readonly o: TokenFileOptions
  private due = 0
  private pending: Promise<void> | undefined
  refreshes = 0

  constructor(path: string, o: TokenFileOptions) {
    this.path = path
    this.o = o
  }

  private now(): number {
    return (this.o.now ?? Date.now)()
  }

  /** Makes sure the file holds a token that stays valid for a while; one fetch at a time. */
  async fresh(): Promise<void> {
    if (this.now() < this.due) return
    this.pending ??= this.refresh().finally(() => (this.pending = undefined))
    return this.pending
  }

  private async refresh(): Promise<void> {
    const issued = this.now()
    const token = await this.o.fetch()
    registerSecret(token)
    const tmp = `${this.path}.new`
    writeFileSync(tmp, token, { mode: 0o600 })
    renameSync(tmp, this.path)
    // A token without exp (never from GitHub) is fetched again for each call.
    const exp = jwtExpiry(token)
    this.due = exp === undefined ? 0 : refreshAt(issued, exp)
    this.refreshes++
    const at = (ms: number): string => new Date(ms).toISOString().slice(11, 19)
    this.o.log(
      `${this.refreshes === 1 ? 'fetched' : 'refreshed'} the GitHub ID token kubelogin exchanges for cluster tokens` +
        (exp === undefined ? '' : ` (valid until ${at(exp)} UTC, next refresh after ${at(this.due)} UTC)`)
    )
  }
}
