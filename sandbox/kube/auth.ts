// Authentication of a request: the bearer token of the Authorization header.
import type { IncomingMessage } from 'node:http'

/** True when the request carries the cluster's bearer token. */
export function authorized(req: IncomingMessage, token: string): boolean {
  const auth = req.headers.authorization ?? ''
  return auth === `Bearer ${token}`
}
