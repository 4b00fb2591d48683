// What the HTTP side of a cluster shares: the store, the open connections that close() ends, the
// access log entry of a request, and reading a request body.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import YAML from 'yaml'
import { ApiError } from './errors.ts'
import type { SpdySession } from './spdy.ts'
import type { Store } from './store.ts'
import type { AuthResult } from './auth.ts'
import type { AccessLogEntry } from './types.ts'

/** One cluster's server state as the request handlers see it. */
export interface Http {
  store: Store
  /** who sent a request (401 unless its bearer token checks out) */
  authenticate(req: IncomingMessage): AuthResult
  /** whether RBAC is enforced */
  rbac: boolean
  accessLog: AccessLogEntry[]
  /** watches and followed logs, ended by close() */
  openResponses: Set<ServerResponse>
  /** exec sessions, destroyed by close() */
  sessions: Set<SpdySession>
  sockets: Set<Socket | Duplex>
}

export type Send = (code: number, body: unknown, contentType?: string) => void

export function logEntry(req: IncomingMessage, url: URL): AccessLogEntry {
  return {
    time: new Date().toISOString(),
    method: req.method ?? '',
    path: url.pathname,
    query: url.search.replace(/^\?/, ''),
    verb: '',
    group: '',
    version: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
    status: 0,
    userAgent: String(req.headers['user-agent'] ?? '')
  }
}

export function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(String(req.headers.accept ?? ''))
}

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (!text.trim()) return undefined
  const ct = String(req.headers['content-type'] ?? '')
  try {
    return /yaml/.test(ct) ? YAML.parse(text) : JSON.parse(text)
  } catch (err) {
    throw new ApiError(400, 'BadRequest', `the body of the request could not be decoded: ${(err as Error).message}`)
  }
}
