// Minimal HS256 JSON Web Tokens for the sandbox's token issuers (the GitHub OIDC double signs,
// the Entra double verifies). Both sides live in the sandbox, so a shared HMAC key is enough.
import { createHmac, timingSafeEqual } from 'node:crypto'

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url')

export function signJwt(payload: Record<string, unknown>, key: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify(payload))
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}

/** The payload when the signature is good, else a reason. */
export function verifyJwt(token: string, key: string): { payload: Record<string, unknown> } | { error: string } {
  const parts = token.split('.')
  if (parts.length !== 3) return { error: 'not a JWT' }
  const want = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest()
  const got = Buffer.from(parts[2], 'base64url')
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { error: 'bad signature' }
  try {
    return { payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) }
  } catch {
    return { error: 'payload is not JSON' }
  }
}
