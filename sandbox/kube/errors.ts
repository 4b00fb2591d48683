// The API server's error objects (metav1.Status) and the small helpers every part of the double uses.
import type { ResourceType } from './resources.ts'

export type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** An error the API server answers with a Status object (code, reason, message, details). */
export class ApiError extends Error {
  readonly code: number
  readonly reason: string
  readonly details?: Obj
  constructor(code: number, reason: string, message: string, details?: Obj) {
    super(message)
    this.code = code
    this.reason = reason
    this.details = details
  }
}

export function statusBody(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code }
}

/** `deployments.apps`, `pods`: how the API server names a resource in its messages. */
export function qualified(t: ResourceType): string {
  return t.group ? `${t.name}.${t.group}` : t.name
}

export function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, ...(t.group ? { group: t.group } : {}), kind: t.name })
}

export function resourceNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource')
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z')
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}
