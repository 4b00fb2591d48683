// Authentication of a request, as an AKS API server with Entra ID integration does it: the bearer
// token is an Entra access token (RS256, signed by a key of the tenant's JWKS) whose issuer and
// audience (the AKS server application) match and that has not expired; the user is its `oid`
// (a service principal's object id, what RBAC bindings name), the groups its `groups` claim.
// The cluster's static token is kept for the sandbox's own setup: user sandbox-admin in
// system:masters. Anything else is 401 (kubectl: "You must be logged in to the server").
import type { IncomingMessage } from 'node:http'
import { verifyRs256 } from '../arm/jwt.ts'
import type { UserInfo } from './rbac.ts'
import type { EntraTokenReview } from './types.ts'

export const ADMIN_USER = 'sandbox-admin'

/** How a request authenticated: the static admin token, or an Entra token (its `uti` and expiry, never the token). */
export type Credential = { kind: 'static' } | { kind: 'entra'; tokenId: string; issuedAt: number; expiresAt: number }

export type AuthResult = { user: UserInfo; credential: Credential } | { error: string }

export function authenticate(req: IncomingMessage, staticToken: string, entra: EntraTokenReview | undefined): AuthResult {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
  if (!m) return { error: 'no bearer token' }
  const token = m[1]
  if (token === staticToken) return { user: { name: ADMIN_USER, groups: ['system:masters', 'system:authenticated'] }, credential: { kind: 'static' } }
  if (!entra) return { error: 'unknown token' }
  const v = verifyRs256(token, entra.jwks())
  if ('error' in v) return { error: `invalid bearer token: ${v.error}` }
  const p = v.payload
  const now = Math.floor(Date.now() / 1000) + (entra.clockSkewS ?? 0)
  if (p.iss !== entra.issuer) return { error: `invalid bearer token: issuer ${String(p.iss)} is not ${entra.issuer}` }
  const aud = Array.isArray(p.aud) ? (p.aud as unknown[]).map(String) : [String(p.aud)]
  if (!aud.includes(entra.audience)) return { error: `invalid bearer token: audience ${aud.join(',')} is not ${entra.audience}` }
  if (typeof p.exp !== 'number' || p.exp <= now) return { error: 'invalid bearer token: token is expired' }
  if (typeof p.nbf === 'number' && p.nbf > now + 60) return { error: 'invalid bearer token: token is not valid yet' }
  const name = String(p.oid ?? p.sub ?? '')
  if (!name) return { error: 'invalid bearer token: no oid claim' }
  const groups = Array.isArray(p.groups) ? (p.groups as unknown[]).map(String) : []
  return {
    user: { name, groups: [...groups, 'system:authenticated'] },
    credential: { kind: 'entra', tokenId: String(p.uti ?? ''), issuedAt: Number(p.iat ?? 0), expiresAt: p.exp }
  }
}
