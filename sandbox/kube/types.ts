// Public types of the Kubernetes API double (see index.ts for the overview).
import type { JsonWebKey } from 'node:crypto'
import type { Readable, Writable } from 'node:stream'

/** Any Kubernetes object as it travels on the wire (apiVersion, kind, metadata, spec, status ...). */
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: KubeMetadata
  [field: string]: unknown
}

export interface KubeMetadata {
  name?: string
  generateName?: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  ownerReferences?: Array<Record<string, unknown>>
  [field: string]: unknown
}

/** What a pod's exec handler gets for one `kubectl exec` (or a direct call). */
export interface ExecRequest {
  namespace: string
  pod: string
  container: string
  /** The command and its arguments exactly as kubectl sent them (`kubectl exec p -- a b c`). */
  argv: string[]
  /** The client's stdin (`kubectl exec -i`); ends when the client closes it. null without -i. */
  stdin: Readable | null
  stdout: Writable
  /** With tty=true kubectl has no separate stderr: this then writes to stdout. */
  stderr: Writable
  tty: boolean
  /** Aborted when the client goes away (Ctrl-C, connection lost) or the cluster closes. */
  signal: AbortSignal
}

/** Runs one exec and resolves to its exit code (0 = success). Throwing counts as an internal error. */
export type ExecHandler = (req: ExecRequest) => Promise<number>

export interface LogOptions {
  container: string
  tailLines?: number
  sinceSeconds?: number
  limitBytes?: number
  timestamps: boolean
  previous: boolean
  follow: boolean
}

/**
 * Where `kubectl logs` reads from: a fixed text, a file (followed with `-f`), or a function.
 * The server applies tailLines/limitBytes to what a string/function returns.
 */
export type LogSource = string | { file: string } | ((opts: LogOptions) => string | Buffer | Promise<string | Buffer>)

export interface ContainerOptions {
  name: string
  image?: string
  /** container ports (TCP) */
  ports?: number[]
  env?: Record<string, string>
}

/** A pod registered by the world. Its exec and logs are served by the handlers given here. */
export interface PodOptions {
  /** default 'default'; created if missing */
  namespace?: string
  name: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  /** status.podIP */
  podIP: string
  /** status.hostIP, default podIP (hostNetwork, as the Cassandra pods run in the reference case) */
  hostIP?: string
  /** spec.nodeName, default `node-<hostIP>` */
  nodeName?: string
  hostNetwork?: boolean
  /** default [{ name: 'main' }] */
  containers?: ContainerOptions[]
  /** status.phase, default 'Running' */
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'
  /** Ready condition and containerStatuses[].ready, default true */
  ready?: boolean
  ownerReferences?: Array<Record<string, unknown>>
  exec?: ExecHandler
  logs?: LogSource
  /** Called after the pod is deleted through the API (`kubectl delete pod`). */
  onDelete?: (pod: KubeObject) => void | Promise<void>
}

export interface PodHandle {
  readonly namespace: string
  readonly name: string
  /** A copy of the pod object as the API serves it now. */
  object(): KubeObject
  setReady(ready: boolean): void
  setPhase(phase: NonNullable<PodOptions['phase']>): void
  setExec(handler: ExecHandler | undefined): void
  setLogs(source: LogSource | undefined): void
  /** Bumps restartCount of all containers (e.g. after the world restarted the process). */
  restarted(): void
  remove(): void
}

export type WorkloadKind = 'Deployment' | 'StatefulSet'

/** A change of spec.replicas on a Deployment/StatefulSet (create, apply, patch, `kubectl scale`). */
export interface ReplicaChange {
  cluster: string
  kind: WorkloadKind
  namespace: string
  name: string
  /** the desired count now */
  replicas: number
  /** the desired count before; null when the object was just created */
  previous: number | null
  /** a copy of the object after the change */
  object: KubeObject
  /** aborted when the cluster closes */
  signal: AbortSignal
}

/**
 * Called (serially per workload, never concurrently for the same one) after spec.replicas changes.
 * Return the number of ready replicas (status.readyReplicas/availableReplicas), or nothing for
 * "all of them". The status is updated when the returned promise settles; until then
 * status.observedGeneration lags metadata.generation, as on a real cluster during a rollout.
 * A hook that throws leaves readyReplicas as it was and is recorded in cluster.hookErrors.
 */
export type ReplicaHook = (change: ReplicaChange) => void | number | Promise<void | number>

export interface WorkloadOptions {
  kind: WorkloadKind
  namespace?: string
  name: string
  replicas: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  /** spec.selector.matchLabels and template labels; default { app: name } */
  selector?: Record<string, string>
  containers?: ContainerOptions[]
  /** StatefulSet only: spec.serviceName */
  serviceName?: string
  /** Hook for this workload only; takes precedence over the cluster-wide hooks. */
  onReplicas?: ReplicaHook
}

export interface AccessLogEntry {
  time: string
  method: string
  /** path without the query string */
  path: string
  query: string
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, connect, ... or '' (discovery) */
  verb: string
  group: string
  version: string
  resource: string
  subresource: string
  namespace: string
  name: string
  status: number
  /** the authenticated user (a token's oid; sandbox-admin for the static token) */
  user?: string
  /** how it authenticated: the static admin token, or an Entra token (its `uti`, iat and exp in seconds) */
  credential?: { kind: 'static' } | { kind: 'entra'; tokenId: string; issuedAt: number; expiresAt: number }
  /** why a request got 401 (no token, expired, wrong audience, ...) */
  authError?: string
  /** Content-Type of a PATCH (which patch flavour the client used) */
  patchType?: string
  userAgent: string
}

export interface KubeClusterOptions {
  /** cluster and context name in the kubeconfig, e.g. 'apigee-dc-1' */
  name: string
  /** directory where the sandbox CA and this server's certificate are kept (sandbox/tls.ts) */
  tlsDir: string
  /** bearer token that the kubeconfig carries; random when omitted */
  token?: string
  /** listen address, default 127.0.0.1 (loopback only) */
  host?: string
  /** default 0 (an ephemeral port) */
  port?: number
  /** namespaces to create at start (default, kube-system, kube-public always exist) */
  namespaces?: string[]
  /** cluster-wide replica hook (per-workload hooks from addWorkload take precedence) */
  onReplicas?: ReplicaHook
  /** Kubernetes version reported by /version, default v1.29.4 */
  gitVersion?: string
  /** debug sink for protocol errors; default: none */
  debug?: (line: string) => void
  /**
   * Entra ID integration as AKS has it: bearer tokens are Entra access tokens checked against
   * this (signature, issuer, audience, expiry). The static `token` keeps working (admin).
   */
  entra?: EntraTokenReview
  /** Enforce RBAC from the stored roles and bindings; default true when `entra` is set. */
  rbac?: boolean
}

/** What the API server needs to validate Entra access tokens (EntraDouble provides it). */
export interface EntraTokenReview {
  /** `iss` of the tenant's v1.0 tokens, https://sts.windows.net/<tenant>/ */
  issuer: string
  /** the AKS server application, 6dae42f8-4368-4678-94ff-3960e28e3630 */
  audience: string
  /** the tenant's signing keys (its JWKS) */
  jwks: () => { keys: JsonWebKey[] }
  /** seconds the API server's clock runs ahead of the runner's (a skewed clock: tokens look expired) */
  clockSkewS?: number
}

/** One context of a kubeconfig file. */
export interface KubeconfigEntry {
  /** used as cluster, user and context name */
  name: string
  server: string
  /** PEM of the CA that signed the server certificate */
  ca: string
  token: string
  /** context's default namespace */
  namespace?: string
}
