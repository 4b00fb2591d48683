// The HTTPS API server of one sandbox cluster (see index.ts for the overview). The parts live in
// their own modules: store.ts (objects, watch events, workload controllers), pods.ts, rest.ts
// (discovery and the REST verbs), query.ts (selectors, Table), watch.ts, logs.ts, exec.ts (SPDY),
// auth.ts.
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { serverTls } from '../tls.ts'
import { authenticate, type AuthResult } from './auth.ts'
import { ApiError, statusBody } from './errors.ts'
import { directExec, upgrade } from './exec.ts'
import { logEntry, type Http } from './http.ts'
import { addPod, podHandle } from './pods.ts'
import { route } from './rest.ts'
import { bootstrapRbac } from './rbac.ts'
import { Store } from './store.ts'
import type { SpdySession } from './spdy.ts'
import type {
  AccessLogEntry,
  KubeClusterOptions,
  KubeconfigEntry,
  KubeObject,
  PodHandle,
  PodOptions,
  ReplicaHook,
  WorkloadKind,
  WorkloadOptions
} from './types.ts'

/** One running sandbox cluster. */
export interface KubeCluster {
  readonly name: string
  /** https://127.0.0.1:<port> */
  readonly url: string
  readonly token: string
  /** PEM of the CA that signed the server certificate */
  readonly ca: string
  /** every request, in order (tests assert on it; clear it with accessLog.length = 0) */
  readonly accessLog: AccessLogEntry[]
  /** errors thrown by replica hooks */
  readonly hookErrors: Error[]
  kubeconfigEntry(namespace?: string): KubeconfigEntry
  addNamespace(name: string, labels?: Record<string, string>): KubeObject
  /** Registers a pod (its namespace and node are created when missing). Replaces a pod of that name. */
  addPod(opts: PodOptions): PodHandle
  pod(namespace: string, name: string): PodHandle | undefined
  /** Creates a Deployment/StatefulSet; its hook (or the cluster's) runs for the initial replicas. */
  addWorkload(opts: WorkloadOptions): KubeObject
  /** Adds a cluster-wide replica hook; returns a function that removes it. */
  onReplicas(hook: ReplicaHook): () => void
  /** Sets status.readyReplicas/availableReplicas of a workload (e.g. a replica died). */
  setReadyReplicas(kind: WorkloadKind, namespace: string, name: string, ready: number): void
  /** Creates or replaces any object (kind/apiVersion decide the resource), as a client's PUT/POST would. */
  apply(obj: KubeObject): KubeObject
  /**
   * Replaces an object's status as a controller's PUT on `/status` would (spec, generation and
   * labels unchanged; watchers see MODIFIED). For kinds with a status subresource, whose status
   * apply() keeps. Throws when the object does not exist.
   */
  putStatus(resource: string, namespace: string | undefined, name: string, status: unknown): KubeObject
  /** A copy of an object; resource is a plural ('secrets'), a kind ('Secret') or a short name ('deploy'). */
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined
  list(resource: string, namespace?: string): KubeObject[]
  delete(resource: string, namespace: string | undefined, name: string): boolean
  /** Resolves when every replica hook started so far has finished. */
  settled(): Promise<void>
  /** Runs a pod's exec handler directly (no HTTP); collects output. */
  exec(namespace: string, pod: string, argv: string[], opts?: { container?: string; stdin?: string }): Promise<{ code: number; stdout: string; stderr: string }>
  /** Stops the server, ends watches and exec sessions (their handlers see the abort). */
  close(): Promise<void>
}

class Cluster implements KubeCluster, Http {
  readonly name: string
  url = ''
  readonly token: string
  readonly ca: string
  readonly accessLog: AccessLogEntry[] = []
  readonly store: Store
  readonly rbac: boolean
  readonly openResponses = new Set<ServerResponse>()
  readonly sessions = new Set<SpdySession>()
  readonly sockets = new Set<Socket | Duplex>()
  private readonly server: Server
  private readonly opts: KubeClusterOptions

  constructor(opts: KubeClusterOptions) {
    this.opts = opts
    this.name = opts.name
    this.token = opts.token ?? randomBytes(24).toString('base64url')
    this.store = new Store(opts)
    bootstrapRbac(this.store)
    this.rbac = opts.rbac ?? opts.entra !== undefined
    const tls = serverTls(opts.tlsDir, `kube-${opts.name}`, ['localhost', opts.host ?? '127.0.0.1'])
    this.ca = tls.ca
    this.server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      void this.handle(req, res)
    })
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(this, req, socket, head))
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve())
    })
    const addr = this.server.address() as AddressInfo
    this.url = `https://${this.opts.host ?? '127.0.0.1'}:${addr.port}`
  }

  kubeconfigEntry(namespace?: string): KubeconfigEntry {
    return { name: this.name, server: this.url, ca: this.ca, token: this.token, ...(namespace ? { namespace } : {}) }
  }


  get hookErrors(): Error[] {
    return this.store.hookErrors
  }
  addNamespace(name: string, labels?: Record<string, string>): KubeObject {
    return this.store.addNamespace(name, labels)
  }
  addPod(opts: PodOptions): PodHandle {
    return addPod(this.store, opts)
  }
  pod(namespace: string, name: string): PodHandle | undefined {
    return podHandle(this.store, namespace, name)
  }
  addWorkload(opts: WorkloadOptions): KubeObject {
    return this.store.addWorkload(opts)
  }
  onReplicas(hook: ReplicaHook): () => void {
    return this.store.onReplicas(hook)
  }
  setReadyReplicas(kind: WorkloadKind, namespace: string, name: string, ready: number): void {
    this.store.setReadyReplicas(kind, namespace, name, ready)
  }
  apply(obj: KubeObject): KubeObject {
    return this.store.apply(obj)
  }
  putStatus(resource: string, namespace: string | undefined, name: string, status: unknown): KubeObject {
    return this.store.putStatus(resource, namespace, name, status)
  }
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(resource, namespace, name)
  }
  list(resource: string, namespace?: string): KubeObject[] {
    return this.store.list(resource, namespace)
  }
  delete(resource: string, namespace: string | undefined, name: string): boolean {
    return this.store.delete(resource, namespace, name)
  }
  settled(): Promise<void> {
    return this.store.settled()
  }
  exec(namespace: string, pod: string, argv: string[], opts: { container?: string; stdin?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return directExec(this.store, namespace, pod, argv, opts)
  }

  authenticate(req: IncomingMessage): AuthResult {
    return authenticate(req, this.token, this.opts.entra)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sandbox')
    const entry = logEntry(req, url)
    this.accessLog.push(entry)
    const send = (code: number, body: unknown, contentType = 'application/json'): void => {
      entry.status = code
      const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
      res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' })
      res.end(text)
    }
    try {
      const who = this.authenticate(req)
      if ('error' in who) {
        entry.authError = who.error
        this.store.opts.debug?.(`401 ${req.method} ${url.pathname}: ${who.error}`)
        req.resume()
        throw new ApiError(401, 'Unauthorized', 'Unauthorized')
      }
      entry.user = who.user.name
      entry.credential = who.credential
      await route(this, req, res, url, entry, send, who.user)
    } catch (err) {
      if (err instanceof ApiError) {
        if (!res.headersSent) send(err.code, statusBody(err.code, err.reason, err.message, err.details))
        else res.destroy()
      } else {
        this.store.opts.debug?.(`${req.method} ${url.pathname}: ${(err as Error).stack}`)
        if (!res.headersSent) send(500, statusBody(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`))
        else res.destroy()
      }
    }
  }

  async close(): Promise<void> {
    this.store.abort.abort()
    for (const s of this.sessions) s.destroy()
    for (const r of this.openResponses) r.end()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    for (const s of this.sockets) s.destroy()
    await closed
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.store.settled(), new Promise<void>((r) => (timer = setTimeout(r, 2000)))])
    clearTimeout(timer)
  }
}

/** Starts one cluster's API server on 127.0.0.1 (an ephemeral port unless opts.port). */
export async function startKubeCluster(opts: KubeClusterOptions): Promise<KubeCluster> {
  const cluster = new Cluster(opts)
  await cluster.listen()
  return cluster
}
