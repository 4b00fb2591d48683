// JSON Web Tokens for the sandbox's token issuers. HS256 for the GitHub OIDC double's ID tokens
// (signed and verified inside the sandbox only, so a shared HMAC key is enough); RS256 for the
// Entra double's access tokens, which the Kubernetes API doubles verify against its JWKS.
import { createHmac, createPublicKey, createSign, createVerify, timingSafeEqual, type JsonWebKey, type KeyObject } from 'node:crypto'

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

// ---- RS256, as Entra ID signs its access tokens (keys published as a JWKS with a `kid`) ----------

/** An RS256 JWT; `kid` names the key in the issuer's JWKS. */
export function signRs256(payload: Record<string, unknown>, key: KeyObject, kid: string): string {
  const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5t: kid, kid }))
  const body = b64url(JSON.stringify(payload))
  const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key).toString('base64url')
  return `${head}.${body}.${sig}`
}

/** Header and payload when the RS256 signature verifies with the JWKS key its `kid` names, else a reason. */
export function verifyRs256(token: string, jwks: { keys: JsonWebKey[] }): { header: Record<string, unknown>; payload: Record<string, unknown> } | { error: string } {
  const parts = token.split('.')
  if (parts.length !== 3) return { error: 'not a JWT' }
  let header: Record<string, unknown>
  let payload: Record<string, unknown>
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>
  } catch {
    return { error: 'not a JWT' }
  }
  if (header.alg !== 'RS256') return { error: `unexpected signing algorithm ${String(header.alg)}` }
  const jwk = jwks.keys.find((k) => (k as { kid?: string }).kid === header.kid)
  if (!jwk) return { error: `no key with kid ${String(header.kid)}` }
  const ok = createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(parts[2], 'base64url'))
  return ok ? { header, payload } : { error: 'invalid signature' }
}
