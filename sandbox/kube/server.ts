// The HTTPS API server of one sandbox cluster: an in-memory object store behind the Kubernetes REST
// paths, with discovery, Table output, watch, patch flavours, the scale subresource, pods/log and
// pods/exec (SPDY/3.1, v4.channel.k8s.io). See index.ts for the overview.
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { PassThrough, Writable, type Duplex } from 'node:stream'
import YAML from 'yaml'
import { serverTls } from '../tls.ts'
import { jsonPatch, JsonPatchError, mergePatch, strategicMergePatch } from './patch.ts'
import {
  apiResources,
  BUILTIN_RESOURCES,
  groupVersion,
  parseFieldSelector,
  parseLabelSelector,
  type ResourceType
} from './resources.ts'
import { SpdySession, type SpdyStream } from './spdy.ts'
import type {
  AccessLogEntry,
  ContainerOptions,
  ExecHandler,
  ExecRequest,
  KubeClusterOptions,
  KubeconfigEntry,
  KubeObject,
  LogOptions,
  LogSource,
  PodHandle,
  PodOptions,
  ReplicaChange,
  ReplicaHook,
  WorkloadKind,
  WorkloadOptions
} from './types.ts'

type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

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

class ApiError extends Error {
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

function statusBody(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code }
}

function qualified(t: ResourceType): string {
  return t.group ? `${t.name}.${t.group}` : t.name
}
function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, ...(t.group ? { group: t.group } : {}), kind: t.name })
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z')
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

interface PodRuntime {
  /** readiness the world wants; shown while the phase is Running */
  ready: boolean
  exec?: ExecHandler
  logs?: LogSource
  onDelete?: PodOptions['onDelete']
}

interface Watcher {
  t: ResourceType
  namespace: string
  match: (o: KubeObject) => boolean
  send: (type: string, o: KubeObject) => void
}

interface StoredEvent {
  rv: number
  type: string
  t: ResourceType
  obj: KubeObject
}

class Cluster implements KubeCluster {
  readonly name: string
  url = ''
  readonly token: string
  readonly ca: string
  readonly accessLog: AccessLogEntry[] = []
  readonly hookErrors: Error[] = []
  private readonly server: Server
  private readonly opts: KubeClusterOptions
  private readonly types: ResourceType[] = [...BUILTIN_RESOURCES]
  private readonly objects = new Map<string, KubeObject>()
  private readonly pods = new Map<string, PodRuntime>()
  private readonly workloadHooks = new Map<string, ReplicaHook>()
  private readonly globalHooks: ReplicaHook[] = []
  private readonly chains = new Map<string, Promise<void>>()
  private readonly events: StoredEvent[] = []
  private readonly watchers = new Set<Watcher>()
  private readonly openResponses = new Set<ServerResponse>()
  private readonly sessions = new Set<SpdySession>()
  private readonly sockets = new Set<Socket | Duplex>()
  private readonly abort = new AbortController()
  private rv = 1

  constructor(opts: KubeClusterOptions) {
    this.opts = opts
    this.name = opts.name
    this.token = opts.token ?? randomBytes(24).toString('base64url')
    const tls = serverTls(opts.tlsDir, `kube-${opts.name}`, ['localhost', opts.host ?? '127.0.0.1'])
    this.ca = tls.ca
    this.server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      void this.handle(req, res)
    })
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head))
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    if (opts.onReplicas) this.globalHooks.push(opts.onReplicas)
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...(opts.namespaces ?? [])]) this.addNamespace(ns)
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

  // ---------------------------------------------------------------- store

  private typeFor(resource: string): ResourceType {
    const r = resource.toLowerCase()
    const t = this.types.find(
      (x) => x.name === r || x.singular === r || x.kind.toLowerCase() === r || (x.shortNames ?? []).includes(r) || qualified(x) === r
    )
    if (!t) throw new Error(`sandbox kube: unknown resource ${resource}`)
    return t
  }

  private typeForObject(obj: KubeObject): ResourceType {
    const [group, version] = String(obj.apiVersion ?? '').includes('/') ? String(obj.apiVersion).split('/') : ['', String(obj.apiVersion ?? 'v1')]
    const t = this.types.find((x) => x.kind === obj.kind && x.group === group && x.version === version)
    if (!t) throw new Error(`sandbox kube: unknown kind ${String(obj.apiVersion)}/${String(obj.kind)}`)
    return t
  }

  private key(t: ResourceType, ns: string, name: string): string {
    return `${t.group}|${t.name}|${t.namespaced ? ns : ''}|${name}`
  }

  private stored(t: ResourceType, ns: string, name: string): KubeObject | undefined {
    return this.objects.get(this.key(t, ns, name))
  }

  private all(t: ResourceType, ns?: string): KubeObject[] {
    const prefix = `${t.group}|${t.name}|`
    const out: KubeObject[] = []
    for (const [k, o] of this.objects) if (k.startsWith(prefix) && (!ns || !t.namespaced || o.metadata.namespace === ns)) out.push(o)
    return out.sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`))
  }

  /** Stores (or deletes, obj undefined) and tells the watchers. */
  private commit(t: ResourceType, ns: string, name: string, obj: KubeObject | undefined, type: 'ADDED' | 'MODIFIED' | 'DELETED'): KubeObject | undefined {
    const k = this.key(t, ns, name)
    this.rv++
    let sent: KubeObject
    if (obj) {
      obj.metadata.resourceVersion = String(this.rv)
      this.objects.set(k, obj)
      sent = obj
    } else {
      const old = this.objects.get(k)
      if (!old) return undefined
      this.objects.delete(k)
      sent = { ...old, metadata: { ...old.metadata, resourceVersion: String(this.rv) } }
    }
    const event = { rv: this.rv, type, t, obj: clone(sent) }
    this.events.push(event)
    if (this.events.length > 2000) this.events.splice(0, 500)
    for (const w of this.watchers) {
      if (w.t !== t) continue
      if (w.namespace && sent.metadata.namespace !== w.namespace) continue
      if (w.match(sent)) w.send(type, event.obj)
    }
    return obj
  }

  private ensureNamespace(ns: string): void {
    if (!this.stored(this.typeFor('namespaces'), '', ns)) this.addNamespace(ns)
  }

  addNamespace(name: string, labels: Record<string, string> = {}): KubeObject {
    const t = this.typeFor('namespaces')
    const existing = this.stored(t, '', name)
    if (existing) return clone(existing)
    return clone(this.create(t, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }, false))
  }

  /** Defaults and bookkeeping of a new object; throws ApiError when it is not acceptable. */
  private create(t: ResourceType, ns: string, body: KubeObject, dryRun: boolean): KubeObject {
    if (!body || typeof body !== 'object' || typeof body.metadata !== 'object' || body.metadata === null) {
      throw new ApiError(400, 'BadRequest', `the body of the request was not a ${t.kind} object`)
    }
    if (body.kind && body.kind !== t.kind) throw new ApiError(400, 'BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${groupVersion(t)}) or kind ${String(body.kind)} is not ${t.kind}`)
    const obj = clone(body)
    obj.apiVersion = groupVersion(t)
    obj.kind = t.kind
    const md = obj.metadata
    if (t.namespaced) {
      if (md.namespace && ns && md.namespace !== ns) {
        throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request')
      }
      ns = ns || md.namespace || 'default'
      md.namespace = ns
      if (!this.stored(this.typeFor('namespaces'), '', ns)) {
        throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' })
      }
    } else delete md.namespace
    if (!md.name && md.generateName) md.name = `${md.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`
    const name = String(md.name ?? '')
    const valid = t.kind === 'Namespace' ? DNS_LABEL.test(name) && name.length <= 63 : DNS_SUBDOMAIN.test(name) && name.length <= 253
    if (!valid) {
      const msg = name ? `${t.kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 ${t.kind === 'Namespace' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` : `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`
      throw new ApiError(422, 'Invalid', msg, { name, kind: t.name, causes: [{ reason: name ? 'FieldValueInvalid' : 'FieldValueRequired', field: 'metadata.name' }] })
    }
    if (this.stored(t, ns, name)) {
      throw new ApiError(409, 'AlreadyExists', `${qualified(t)} "${name}" already exists`, { name, ...(t.group ? { group: t.group } : {}), kind: t.name })
    }
    md.uid = randomUUID()
    md.creationTimestamp = now()
    if (t.generation) md.generation = 1
    for (const k of ['resourceVersion', 'deletionTimestamp', 'selfLink', 'managedFields']) delete md[k]
    this.defaults(t, obj, undefined)
    if (dryRun) return obj
    this.commit(t, ns, name, obj, 'ADDED')
    if (this.isWorkload(t)) this.replicasChanged(t, undefined, obj)
    return obj
  }

  private isWorkload(t: ResourceType): boolean {
    return t.group === 'apps' && (t.kind === 'Deployment' || t.kind === 'StatefulSet')
  }

  private defaults(t: ResourceType, obj: Obj, old: Obj | undefined): void {
    switch (t.kind) {
      case 'Namespace':
        obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) }
        obj.status = { phase: 'Active' }
        obj.metadata.labels = { 'kubernetes.io/metadata.name': obj.metadata.name, ...(obj.metadata.labels ?? {}) }
        break
      case 'Secret': {
        obj.type = obj.type ?? old?.type ?? 'Opaque'
        const data: Record<string, string> = { ...(obj.data ?? {}) }
        for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) data[k] = Buffer.from(String(v)).toString('base64')
        delete obj.stringData
        for (const [k, v] of Object.entries(data)) {
          if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
            throw new ApiError(400, 'BadRequest', `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (data[${k}])`)
          }
        }
        if (Object.keys(data).length || obj.data) obj.data = data
        break
      }
      case 'Deployment':
      case 'StatefulSet': {
        obj.spec = obj.spec ?? {}
        if (typeof obj.spec.replicas !== 'number') obj.spec.replicas = 1
        obj.status = old?.status ?? { observedGeneration: 0, replicas: 0 }
        break
      }
      case 'Pod':
        obj.status = old?.status ?? obj.status ?? { phase: 'Pending' }
        break
      default:
        if (old && t.subresources?.includes('status') && old.status !== undefined) obj.status = old.status
    }
  }

  /** Replaces an existing object: keeps identity and status, checks resourceVersion, bumps generation. */
  private update(t: ResourceType, ns: string, name: string, body: Obj, dryRun: boolean, opts: { subresource?: string } = {}): KubeObject {
    const old = this.stored(t, ns, name)
    if (!old) throw notFound(t, name)
    if (!body || typeof body !== 'object' || typeof body.metadata !== 'object') throw new ApiError(400, 'BadRequest', `the body of the request was not a ${t.kind} object`)
    if (body.metadata.name && body.metadata.name !== name) {
      throw new ApiError(400, 'BadRequest', `the name of the object (${String(body.metadata.name)}) does not match the name on the URL (${name})`)
    }
    const rv = body.metadata.resourceVersion
    if (rv && rv !== old.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, ...(t.group ? { group: t.group } : {}), kind: t.name })
    }
    let obj: Obj
    if (opts.subresource === 'status') {
      obj = { ...clone(old), status: clone(body.status) }
    } else {
      obj = clone(body)
      obj.apiVersion = groupVersion(t)
      obj.kind = t.kind
      const keep = ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp']
      for (const k of keep) if (old.metadata[k] !== undefined) obj.metadata[k] = old.metadata[k]
      obj.metadata.name = name
      if (t.namespaced) obj.metadata.namespace = ns
      else delete obj.metadata.namespace
      this.defaults(t, obj, old as Obj)
      if (t.generation && JSON.stringify(obj.spec) !== JSON.stringify((old as Obj).spec)) obj.metadata.generation = (old.metadata.generation ?? 1) + 1
    }
    if (dryRun) return obj as KubeObject
    this.commit(t, ns, name, obj as KubeObject, 'MODIFIED')
    if (this.isWorkload(t)) this.replicasChanged(t, old, obj as KubeObject)
    return obj as KubeObject
  }

  private remove(t: ResourceType, ns: string, name: string, dryRun: boolean): KubeObject {
    const old = this.stored(t, ns, name)
    if (!old) throw notFound(t, name)
    if (dryRun) return clone(old)
    if (t.kind === 'Namespace') {
      for (const other of this.types.filter((x) => x.namespaced)) for (const o of this.all(other, name)) this.remove(other, name, String(o.metadata.name), false)
    }
    this.commit(t, ns, name, undefined, 'DELETED')
    if (t.kind === 'Pod') {
      const rt = this.pods.get(this.key(t, ns, name))
      this.pods.delete(this.key(t, ns, name))
      if (rt?.onDelete) void Promise.resolve(rt.onDelete(clone(old))).catch((e: Error) => this.hookErrors.push(e))
    }
    if (this.isWorkload(t)) this.replicasChanged(t, old, undefined)
    const out = clone(old) as Obj
    if (t.kind === 'Namespace') out.status = { phase: 'Terminating' }
    out.metadata.deletionTimestamp = now()
    return out as KubeObject
  }

  // ---------------------------------------------------------------- workloads

  onReplicas(hook: ReplicaHook): () => void {
    this.globalHooks.push(hook)
    return () => {
      const i = this.globalHooks.indexOf(hook)
      if (i >= 0) this.globalHooks.splice(i, 1)
    }
  }

  private replicasChanged(t: ResourceType, before: KubeObject | undefined, after: KubeObject | undefined): void {
    const ns = String((after ?? before)!.metadata.namespace)
    const name = String((after ?? before)!.metadata.name)
    const k = this.key(t, ns, name)
    const previous = before ? Number((before as Obj).spec?.replicas ?? 1) : null
    const replicas = after ? Number((after as Obj).spec?.replicas ?? 1) : 0
    const generation = after?.metadata.generation ?? 0
    if (after && previous === replicas) {
      // spec changed without a replica change: the "controller" catches up at once
      this.setStatus(t, ns, name, undefined, generation)
      return
    }
    const hooks = this.workloadHooks.get(k) ? [this.workloadHooks.get(k)!] : [...this.globalHooks]
    if (!after) this.workloadHooks.delete(k)
    if (hooks.length === 0) {
      if (after) this.setStatus(t, ns, name, replicas, generation, replicas)
      return
    }
    const change: ReplicaChange = {
      cluster: this.name,
      kind: t.kind as WorkloadKind,
      namespace: ns,
      name,
      replicas,
      previous,
      object: clone(after ?? before!),
      signal: this.abort.signal
    }
    const run = async (): Promise<void> => {
      let ready: number | undefined
      for (const hook of hooks) {
        try {
          const r = await hook(change)
          if (typeof r === 'number') ready = r
        } catch (err) {
          this.hookErrors.push(err as Error)
          this.opts.debug?.(`replica hook for ${t.kind} ${ns}/${name} failed: ${(err as Error).message}`)
          return
        }
      }
      if (after) this.setStatus(t, ns, name, ready ?? replicas, generation, replicas)
    }
    const next = (this.chains.get(k) ?? Promise.resolve()).then(run)
    this.chains.set(k, next)
    void next.finally(() => {
      if (this.chains.get(k) === next) this.chains.delete(k)
    })
  }

  /** Writes a workload's status as its controller would. ready undefined: keep the current count. */
  private setStatus(t: ResourceType, ns: string, name: string, ready: number | undefined, observedGeneration?: number, replicas?: number): void {
    const cur = this.stored(t, ns, name) as Obj | undefined
    if (!cur) return
    const obj = clone(cur)
    const old = obj.status ?? {}
    const desired = Number(obj.spec?.replicas ?? 1)
    const total = replicas ?? (old.replicas as number | undefined) ?? desired
    const r = Math.max(0, Math.min(ready ?? (old.readyReplicas as number | undefined) ?? 0, total))
    const gen = Math.max(observedGeneration ?? Number(old.observedGeneration ?? 0), Number(old.observedGeneration ?? 0))
    const omitZero = (s: Obj): Obj => {
      for (const k of Object.keys(s)) if (s[k] === 0 && k !== 'observedGeneration' && !(t.kind === 'StatefulSet' && k === 'replicas')) delete s[k]
      return s
    }
    if (t.kind === 'Deployment') {
      obj.status = omitZero({
        observedGeneration: gen,
        replicas: total,
        updatedReplicas: total,
        readyReplicas: r,
        availableReplicas: r,
        unavailableReplicas: total - r,
        conditions: [
          { type: 'Available', status: r >= total ? 'True' : 'False', reason: r >= total ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: r >= total ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.', lastUpdateTime: now(), lastTransitionTime: now() },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}-sandbox" has successfully progressed.`, lastUpdateTime: now(), lastTransitionTime: now() }
        ]
      })
    } else {
      obj.status = omitZero({
        observedGeneration: gen,
        replicas: total,
        readyReplicas: r,
        currentReplicas: total,
        updatedReplicas: total,
        availableReplicas: r,
        currentRevision: `${name}-sandbox`,
        updateRevision: `${name}-sandbox`,
        collisionCount: 0
      })
    }
    this.commit(t, ns, name, obj as KubeObject, 'MODIFIED')
  }

  setReadyReplicas(kind: WorkloadKind, namespace: string, name: string, ready: number): void {
    const t = this.typeFor(kind)
    if (!this.stored(t, namespace, name)) throw new Error(`sandbox kube: no ${kind} ${namespace}/${name} in ${this.name}`)
    this.setStatus(t, namespace, name, ready)
  }

  async settled(): Promise<void> {
    while (this.chains.size) await Promise.allSettled([...this.chains.values()])
  }

  addWorkload(o: WorkloadOptions): KubeObject {
    const ns = o.namespace ?? 'default'
    this.ensureNamespace(ns)
    const t = this.typeFor(o.kind)
    const selector = o.selector ?? { app: o.name }
    if (o.onReplicas) this.workloadHooks.set(this.key(t, ns, o.name), o.onReplicas)
    const body: Obj = {
      apiVersion: 'apps/v1',
      kind: o.kind,
      metadata: { name: o.name, namespace: ns, labels: o.labels ?? selector, ...(o.annotations ? { annotations: o.annotations } : {}) },
      spec: {
        replicas: o.replicas,
        selector: { matchLabels: selector },
        ...(o.kind === 'StatefulSet' ? { serviceName: o.serviceName ?? o.name } : {}),
        template: { metadata: { labels: selector }, spec: { containers: containerSpecs(o.containers ?? [{ name: o.name }]) } }
      }
    }
    const existing = this.stored(t, ns, o.name)
    return clone(existing ? this.update(t, ns, o.name, { ...body, metadata: { ...existing.metadata, ...body.metadata, resourceVersion: undefined } }, false) : this.create(t, ns, body as KubeObject, false))
  }

  // ---------------------------------------------------------------- pods

  addPod(o: PodOptions): PodHandle {
    const ns = o.namespace ?? 'default'
    this.ensureNamespace(ns)
    const t = this.typeFor('pods')
    const hostIP = o.hostIP ?? o.podIP
    const nodeName = o.nodeName ?? `node-${hostIP.replace(/[.:]/g, '-')}`
    this.ensureNode(nodeName, hostIP)
    const containers = o.containers ?? [{ name: 'main' }]
    const started = now()
    const ready = o.ready ?? true
    const phase = o.phase ?? 'Running'
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: o.name,
        namespace: ns,
        ...(o.labels && Object.keys(o.labels).length ? { labels: o.labels } : {}),
        ...(o.annotations ? { annotations: o.annotations } : {}),
        ...(o.ownerReferences ? { ownerReferences: o.ownerReferences } : {})
      },
      spec: {
        containers: containerSpecs(containers),
        nodeName,
        hostNetwork: o.hostNetwork ?? hostIP === o.podIP,
        restartPolicy: 'Always',
        dnsPolicy: 'ClusterFirst',
        terminationGracePeriodSeconds: 30
      },
      status: {}
    }
    pod.status = podStatus(pod, { phase, ready, hostIP, podIP: o.podIP, started, restarts: 0 })
    const k = this.key(t, ns, o.name)
    if (this.stored(t, ns, o.name)) this.commit(t, ns, o.name, undefined, 'DELETED')
    const created = this.create(t, ns, pod as KubeObject, false) as Obj
    created.status = pod.status
    this.commit(t, ns, o.name, created as KubeObject, 'MODIFIED')
    this.pods.set(k, { ready, exec: o.exec, logs: o.logs, onDelete: o.onDelete })
    return this.pod(ns, o.name)!
  }

  pod(namespace: string, name: string): PodHandle | undefined {
    const t = this.typeFor('pods')
    const cur = this.stored(t, namespace, name) as Obj | undefined
    const rt = this.pods.get(this.key(t, namespace, name))
    if (!cur || !rt) return undefined
    const cluster = this
    const status = (f: (s: Obj) => void): void => {
      const stored = cluster.stored(t, namespace, name) as Obj | undefined
      if (!stored || cluster.pods.get(cluster.key(t, namespace, name)) !== rt) return // deleted or replaced
      const obj = clone(stored)
      f(obj.status)
      obj.status = podStatus(obj, {
        phase: obj.status.phase,
        ready: rt.ready,
        hostIP: obj.status.hostIP,
        podIP: obj.status.podIP,
        started: obj.status.startTime,
        restarts: obj.status.containerStatuses?.[0]?.restartCount ?? 0
      })
      cluster.commit(t, namespace, name, obj as KubeObject, 'MODIFIED')
    }
    return {
      namespace,
      name,
      object: () => clone(cluster.stored(t, namespace, name) ?? (cur as KubeObject)),
      setReady: (r) => {
        rt.ready = r
        status(() => {})
      },
      setPhase: (p) => status((s) => void (s.phase = p)),
      setExec: (h) => void (rt.exec = h),
      setLogs: (l) => void (rt.logs = l),
      restarted: () => status((s) => void (s.containerStatuses = (s.containerStatuses as Obj[]).map((c) => ({ ...c, restartCount: (c.restartCount ?? 0) + 1 })))),
      remove: () => {
        if (cluster.pods.get(cluster.key(t, namespace, name)) !== rt) return // already deleted or replaced
        if (cluster.stored(t, namespace, name)) cluster.commit(t, namespace, name, undefined, 'DELETED')
        cluster.pods.delete(cluster.key(t, namespace, name))
      }
    }
  }

  private ensureNode(name: string, ip: string): void {
    const t = this.typeFor('nodes')
    if (this.stored(t, '', name)) return
    const node: Obj = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
      spec: {},
      status: {}
    }
    const created = this.create(t, '', node as KubeObject, false) as Obj
    created.status = {
      addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() }],
      nodeInfo: { kubeletVersion: this.opts.gitVersion ?? 'v1.29.4', operatingSystem: 'linux', architecture: 'amd64' }
    }
    this.commit(t, '', name, created as KubeObject, 'MODIFIED')
  }

  // ---------------------------------------------------------------- programmatic access

  apply(obj: KubeObject): KubeObject {
    const t = this.typeForObject(obj)
    const ns = t.namespaced ? (obj.metadata.namespace ?? 'default') : ''
    if (t.namespaced) this.ensureNamespace(ns)
    const name = String(obj.metadata.name)
    const existing = this.stored(t, ns, name)
    if (!existing) return clone(this.create(t, ns, obj, false))
    return clone(this.update(t, ns, name, { ...clone(obj), metadata: { ...clone(obj.metadata), resourceVersion: undefined } }, false))
  }

  putStatus(resource: string, namespace: string | undefined, name: string, status: unknown): KubeObject {
    const t = this.typeFor(resource)
    const old = this.stored(t, namespace ?? '', name)
    if (!old) throw notFound(t, name)
    return clone(this.update(t, namespace ?? '', name, { metadata: clone(old.metadata), status: clone(status) }, false, { subresource: 'status' }))
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.stored(this.typeFor(resource), namespace ?? '', name)
    return o ? clone(o) : undefined
  }

  list(resource: string, namespace?: string): KubeObject[] {
    return this.all(this.typeFor(resource), namespace).map(clone)
  }

  delete(resource: string, namespace: string | undefined, name: string): boolean {
    const t = this.typeFor(resource)
    if (!this.stored(t, namespace ?? '', name)) return false
    this.remove(t, namespace ?? '', name, false)
    return true
  }

  async exec(namespace: string, pod: string, argv: string[], opts: { container?: string; stdin?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const t = this.typeFor('pods')
    const obj = this.stored(t, namespace, pod) as Obj | undefined
    const rt = this.pods.get(this.key(t, namespace, pod))
    if (!obj || !rt) throw new Error(`sandbox kube: no pod ${namespace}/${pod} in ${this.name}`)
    const out: Buffer[] = []
    const err: Buffer[] = []
    const sink = (into: Buffer[]): Writable => new Writable({ write: (c: Buffer, _e, cb) => (into.push(Buffer.from(c)), cb()) })
    let stdin: PassThrough | null = null
    if (opts.stdin !== undefined) {
      stdin = new PassThrough()
      stdin.end(opts.stdin)
    }
    const code = await runExec(rt.exec, {
      namespace,
      pod,
      container: opts.container ?? obj.spec.containers[0].name,
      argv,
      stdin,
      stdout: sink(out),
      stderr: sink(err),
      tty: false,
      signal: this.abort.signal
    })
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
  }

  // ---------------------------------------------------------------- HTTP

  private authorized(req: IncomingMessage): boolean {
    const auth = req.headers.authorization ?? ''
    return auth === `Bearer ${this.token}`
  }

  private logEntry(req: IncomingMessage, url: URL): AccessLogEntry {
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sandbox')
    const entry = this.logEntry(req, url)
    this.accessLog.push(entry)
    const send = (code: number, body: unknown, contentType = 'application/json'): void => {
      entry.status = code
      const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
      res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' })
      res.end(text)
    }
    try {
      if (!this.authorized(req)) {
        req.resume()
        throw new ApiError(401, 'Unauthorized', 'Unauthorized')
      }
      await this.route(req, res, url, entry, send)
    } catch (err) {
      if (err instanceof ApiError) {
        if (!res.headersSent) send(err.code, statusBody(err.code, err.reason, err.message, err.details))
        else res.destroy()
      } else {
        this.opts.debug?.(`${req.method} ${url.pathname}: ${(err as Error).stack}`)
        if (!res.headersSent) send(500, statusBody(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`))
        else res.destroy()
      }
    }
  }

  private groups(): Map<string, ResourceType[]> {
    const m = new Map<string, ResourceType[]>()
    for (const t of this.types) {
      const gv = groupVersion(t)
      m.set(gv, [...(m.get(gv) ?? []), t])
    }
    return m
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, entry: AccessLogEntry, send: (code: number, body: unknown, ct?: string) => void): Promise<void> {
    const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    const p = url.pathname.replace(/\/+$/, '') || '/'
    const method = req.method ?? 'GET'
    if (p === '/version') {
      const gitVersion = this.opts.gitVersion ?? 'v1.29.4'
      const [major, minor] = gitVersion.replace(/^v/, '').split('.')
      return send(200, { major, minor, gitVersion, gitCommit: 'sandbox', gitTreeState: 'clean', buildDate: '2024-01-01T00:00:00Z', goVersion: 'go1.21.9', compiler: 'gc', platform: 'linux/amd64' })
    }
    if (p === '/healthz' || p === '/livez' || p === '/readyz') return send(200, 'ok', 'text/plain')
    if (p === '/api') {
      return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: url.host }] })
    }
    if (p === '/apis') {
      const groups = new Map<string, string[]>()
      for (const t of this.types) if (t.group) groups.set(t.group, [...new Set([...(groups.get(t.group) ?? []), t.version])])
      return send(200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups].map(([name, versions]) => ({
          name,
          versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] }
        }))
      })
    }
    if (p === '/openapi/v2' || p.startsWith('/openapi/')) {
      // No schemas: kubectl then skips client-side validation for every kind (an empty document).
      return send(200, Buffer.alloc(0), 'application/octet-stream')
    }
    let group: string
    let version: string
    let rest: string[]
    if (segs[0] === 'api' && segs.length >= 2) {
      group = ''
      version = segs[1]
      rest = segs.slice(2)
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1]
      version = segs[2]
      rest = segs.slice(3)
    } else if (segs[0] === 'apis' && segs.length === 2) {
      const versions = [...new Set(this.types.filter((t) => t.group === segs[1]).map((t) => t.version))]
      if (!versions.length) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
      return send(200, { kind: 'APIGroup', apiVersion: 'v1', name: segs[1], versions: versions.map((v) => ({ groupVersion: `${segs[1]}/${v}`, version: v })), preferredVersion: { groupVersion: `${segs[1]}/${versions[0]}`, version: versions[0] } })
    } else {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
    }
    entry.group = group
    entry.version = version
    const gvTypes = this.groups().get(group ? `${group}/${version}` : version)
    if (!gvTypes) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
    if (rest.length === 0) {
      return send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: apiResources(gvTypes) })
    }
    let ns = ''
    if (rest[0] === 'namespaces' && rest.length >= 3 && gvTypes.some((t) => t.namespaced && t.name === rest[2])) {
      ns = rest[1]
      rest = rest.slice(2)
    }
    const t = gvTypes.find((x) => x.name === rest[0])
    if (!t || rest.length > 3) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
    const name = rest[1] ?? ''
    const sub = rest[2] ?? ''
    Object.assign(entry, { resource: t.name, name, subresource: sub, namespace: ns })
    if (sub && !(t.subresources ?? []).includes(sub)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
    const q = url.searchParams
    const dryRun = q.getAll('dryRun').includes('All')
    if (t.namespaced && name && !ns) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')

    if (!name) {
      if (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1')) {
        entry.verb = 'watch'
        entry.status = 200
        return this.watch(req, res, t, ns, q)
      }
      if (method === 'GET') {
        entry.verb = 'list'
        const items = this.select(t, ns, q)
        if (wantsTable(req)) return send(200, this.table(t, items, req, q))
        return send(200, {
          kind: `${t.kind}List`,
          apiVersion: groupVersion(t),
          metadata: { resourceVersion: String(this.rv) },
          items: items.map(clone)
        })
      }
      if (method === 'POST') {
        entry.verb = 'create'
        if (t.namespaced && !ns) throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
        const body = await readBody(req)
        return send(201, this.create(t, ns, body as KubeObject, dryRun))
      }
      if (method === 'DELETE') {
        entry.verb = 'deletecollection'
        const items = this.select(t, ns, q)
        for (const o of items) this.remove(t, ns || String(o.metadata.namespace ?? ''), String(o.metadata.name), dryRun)
        return send(200, { kind: `${t.kind}List`, apiVersion: groupVersion(t), metadata: { resourceVersion: String(this.rv) }, items })
      }
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
    }

    if (sub === 'log') {
      entry.verb = 'get'
      return this.logs(req, res, ns, name, q, entry)
    }
    if (sub === 'exec' || sub === 'attach' || sub === 'portforward') {
      entry.verb = method === 'POST' ? 'create' : 'get'
      req.resume()
      throw new ApiError(400, 'BadRequest', 'Upgrade request required')
    }
    if (sub === 'scale') return this.scale(req, t, ns, name, q, entry, send, dryRun)

    switch (method) {
      case 'GET': {
        entry.verb = 'get'
        const o = this.stored(t, ns, name)
        if (!o) throw notFound(t, name)
        if (wantsTable(req)) return send(200, this.table(t, [o], req, q))
        return send(200, o)
      }
      case 'PUT': {
        entry.verb = 'update'
        const body = (await readBody(req)) as Obj
        return send(200, this.update(t, ns, name, body, dryRun, { subresource: sub }))
      }
      case 'PATCH': {
        entry.verb = 'patch'
        const ct = String(req.headers['content-type'] ?? '').split(';')[0].trim()
        entry.patchType = ct
        const patch = await readBody(req)
        const old = this.stored(t, ns, name)
        if (!old) throw notFound(t, name)
        const patched = applyPatch(ct, sub === 'status' ? { status: (old as Obj).status } : old, patch) as Obj
        if (!patched || typeof patched !== 'object') throw new ApiError(422, 'Invalid', 'the patch produced no object')
        patched.metadata = { ...(patched.metadata ?? old.metadata) }
        const patchRv = (patch as Obj)?.metadata?.resourceVersion
        if (!patchRv) patched.metadata.resourceVersion = undefined
        return send(200, this.update(t, ns, name, sub === 'status' ? { metadata: { ...old.metadata, resourceVersion: patchRv }, status: patched.status } : patched, dryRun, { subresource: sub }))
      }
      case 'DELETE': {
        entry.verb = 'delete'
        await readBody(req).catch(() => undefined)
        return send(200, this.remove(t, ns, name, dryRun))
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
    }
  }

  /** The label and field selectors of a list or watch request as one predicate. */
  private matcher(q: URLSearchParams): (o: KubeObject) => boolean {
    try {
      const labelMatch = parseLabelSelector(q.get('labelSelector') ?? '')
      const fieldMatch = parseFieldSelector(q.get('fieldSelector') ?? '')
      return (o) => labelMatch(o.metadata.labels ?? {}) && fieldMatch(o)
    } catch (err) {
      throw new ApiError(400, 'BadRequest', (err as Error).message)
    }
  }

  private select(t: ResourceType, ns: string, q: URLSearchParams): KubeObject[] {
    return this.all(t, ns || undefined).filter(this.matcher(q))
  }

  private table(t: ResourceType, items: KubeObject[], req: IncomingMessage, q: URLSearchParams): Obj {
    const include = q.get('includeObject') ?? 'Metadata'
    const v1beta1 = !/as=Table;v=v1;/.test(String(req.headers.accept ?? '') + ';') && /v=v1beta1/.test(String(req.headers.accept ?? ''))
    return {
      kind: 'Table',
      apiVersion: v1beta1 ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1',
      metadata: { resourceVersion: String(this.rv) },
      columnDefinitions: t.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: '', priority: c.priority ?? 0 })),
      rows: items.map((o) => ({
        cells: t.columns.map((c) => c.cell(o)),
        ...(include === 'None'
          ? {}
          : { object: include === 'Object' ? clone(o) : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: clone(o.metadata) } })
      }))
    }
  }

  private watch(req: IncomingMessage, res: ServerResponse, t: ResourceType, ns: string, q: URLSearchParams): void {
    const match = this.matcher(q)
    const table = wantsTable(req)
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' })
    res.flushHeaders() // a client waits for the headers before it reads events
    this.openResponses.add(res)
    const send = (type: string, o: KubeObject): void => {
      const object = table ? this.table(t, [o], req, q) : o
      res.write(JSON.stringify({ type, object }) + '\n')
    }
    const rv = q.get('resourceVersion') ?? ''
    if (rv === '' || rv === '0') {
      for (const o of this.all(t, ns || undefined)) if (match(o)) send('ADDED', o)
    } else {
      for (const e of this.events) {
        if (e.rv <= Number(rv) || e.t !== t) continue
        if (ns && e.obj.metadata.namespace !== ns) continue
        if (match(e.obj)) send(e.type, e.obj)
      }
    }
    const watcher: Watcher = { t, namespace: ns, match, send }
    this.watchers.add(watcher)
    const timeout = Number(q.get('timeoutSeconds') ?? 1800)
    const timer = setTimeout(() => res.end(), Math.max(1, timeout) * 1000)
    const done = (): void => {
      clearTimeout(timer)
      this.watchers.delete(watcher)
      this.openResponses.delete(res)
    }
    res.on('close', done)
    req.on('close', done)
  }

  private async scale(req: IncomingMessage, t: ResourceType, ns: string, name: string, q: URLSearchParams, entry: AccessLogEntry, send: (code: number, body: unknown) => void, dryRun: boolean): Promise<void> {
    const scaleOf = (o: Obj): Obj => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace: ns, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
      spec: { replicas: o.spec?.replicas ?? 0 },
      status: {
        replicas: o.status?.replicas ?? 0,
        selector: Object.entries((o.spec?.selector?.matchLabels ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',')
      }
    })
    const cur = this.stored(t, ns, name) as Obj | undefined
    if (req.method === 'GET') {
      entry.verb = 'get'
      if (!cur) throw notFound(t, name)
      return send(200, scaleOf(cur))
    }
    const body = await readBody(req)
    if (!cur) throw notFound(t, name)
    let replicas: unknown
    let rv: string | undefined
    if (req.method === 'PUT') {
      entry.verb = 'update'
      replicas = (body as Obj)?.spec?.replicas
      rv = (body as Obj)?.metadata?.resourceVersion
    } else if (req.method === 'PATCH') {
      entry.verb = 'patch'
      const ct = String(req.headers['content-type'] ?? '').split(';')[0].trim()
      entry.patchType = ct
      const patched = applyPatch(ct, scaleOf(cur), body) as Obj
      replicas = patched?.spec?.replicas
      rv = (body as Obj)?.metadata?.resourceVersion
    } else throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`)
    }
    const next = clone(cur)
    next.spec.replicas = replicas
    next.metadata.resourceVersion = rv
    const updated = this.update(t, ns, name, next, dryRun) as Obj
    void q
    return send(200, scaleOf(updated))
  }

  private async logs(req: IncomingMessage, res: ServerResponse, ns: string, name: string, q: URLSearchParams, entry: AccessLogEntry): Promise<void> {
    const t = this.typeFor('pods')
    const pod = this.stored(t, ns, name) as Obj | undefined
    if (!pod) throw notFound(t, name)
    const container = this.container(pod, q.get('container'))
    const num = (k: string): number | undefined => (q.get(k) !== null && q.get(k) !== '' ? Number(q.get(k)) : undefined)
    const opts: LogOptions = {
      container,
      tailLines: num('tailLines'),
      sinceSeconds: num('sinceSeconds'),
      limitBytes: num('limitBytes'),
      timestamps: q.get('timestamps') === 'true',
      previous: q.get('previous') === 'true',
      follow: q.get('follow') === 'true'
    }
    const source = this.pods.get(this.key(t, ns, name))?.logs
    let text: Buffer
    let file: string | undefined
    if (source === undefined) text = Buffer.alloc(0)
    else if (typeof source === 'string') text = Buffer.from(source)
    else if (typeof source === 'function') text = Buffer.from(await source(opts))
    else {
      file = source.file
      text = existsSync(file) ? readFileSync(file) : Buffer.alloc(0)
    }
    let offset = text.length
    text = shapeLog(text, opts)
    entry.status = 200
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', ...(opts.follow ? { 'Transfer-Encoding': 'chunked' } : {}) })
    if (!opts.follow || !file) {
      res.end(text)
      return
    }
    res.flushHeaders()
    if (text.length) res.write(text)
    this.openResponses.add(res)
    const f = file
    const timer = setInterval(() => {
      try {
        const size = existsSync(f) ? statSync(f).size : 0
        if (size < offset) offset = 0 // rotated
        if (size > offset) {
          const fd = openSync(f, 'r')
          const buf = Buffer.alloc(size - offset)
          readSync(fd, buf, 0, buf.length, offset)
          closeSync(fd)
          offset = size
          res.write(buf)
        }
      } catch {
        /* the file may come and go */
      }
    }, 200)
    const done = (): void => {
      clearInterval(timer)
      this.openResponses.delete(res)
    }
    res.on('close', done)
  }

  private container(pod: Obj, wanted: string | null): string {
    const names = (pod.spec.containers as Obj[]).map((c) => String(c.name))
    if (wanted) {
      if (!names.includes(wanted)) throw new ApiError(400, 'BadRequest', `container ${wanted} is not valid for pod ${pod.metadata.name}`)
      return wanted
    }
    if (names.length === 1) return names[0]
    throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`)
  }

  // ---------------------------------------------------------------- exec (SPDY/3.1)

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    const url = new URL(req.url ?? '/', 'https://sandbox')
    const entry = this.logEntry(req, url)
    entry.verb = req.method === 'POST' ? 'create' : 'get'
    this.accessLog.push(entry)
    const refuse = (code: number, reason: string, message: string): void => {
      entry.status = code
      const body = JSON.stringify(statusBody(code, reason, message))
      const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[code as 400] ?? 'Error'
      socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    }
    if (!this.authorized(req)) return refuse(401, 'Unauthorized', 'Unauthorized')
    const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/)
    if (!m) return refuse(404, 'NotFound', 'the server could not find the requested resource')
    const [, ns, name, sub] = m.map(decodeURIComponent)
    Object.assign(entry, { group: '', version: 'v1', resource: 'pods', subresource: sub, namespace: ns, name })
    if (sub !== 'exec') return refuse(400, 'BadRequest', `pods/${sub} is not supported by the sandbox`)
    const upgradeTo = String(req.headers.upgrade ?? '').toLowerCase()
    if (upgradeTo !== 'spdy/3.1') {
      // e.g. kubectl >= 1.30 tries websocket (v5.channel.k8s.io) first and falls back to SPDY on a failed upgrade
      return refuse(400, 'BadRequest', `unable to upgrade connection: the sandbox speaks SPDY/3.1 only, not ${upgradeTo || 'nothing'}`)
    }
    const t = this.typeFor('pods')
    const pod = this.stored(t, ns, name) as Obj | undefined
    if (!pod) return refuse(404, 'NotFound', `pods "${name}" not found`)
    const q = url.searchParams
    let container: string
    try {
      container = this.container(pod, q.get('container'))
    } catch (err) {
      return refuse(400, 'BadRequest', (err as Error).message)
    }
    if (pod.status?.phase !== 'Running') return refuse(400, 'BadRequest', `unable to upgrade connection: container not found ("${container}")`)
    const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim())
    const protocol = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io'].find((p) => offered.includes(p))
    if (!protocol) return refuse(400, 'BadRequest', `unable to upgrade connection: no supported stream protocol in ${JSON.stringify(offered)}`)
    const flag = (k: string): boolean => q.get(k) === 'true' || q.get(k) === '1'
    const tty = flag('tty')
    const wants = { error: true, stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr') && !tty, resize: tty && protocol !== 'v2.channel.k8s.io' }
    const argv = q.getAll('command')
    entry.status = 101
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\nDate: ${new Date().toUTCString()}\r\n\r\n`)
    const session = new SpdySession(socket, head)
    this.sessions.add(session)
    session.on('protocolError', (err: Error) => this.opts.debug?.(`SPDY protocol error: ${err.message}`))
    const streams: Partial<Record<string, SpdyStream>> = {}
    const stdin = wants.stdin ? new PassThrough() : null
    const abort = new AbortController()
    let started = false
    const startTimer = setTimeout(() => {
      if (!started) session.destroy()
    }, 30000)
    session.on('close', () => {
      clearTimeout(startTimer)
      this.sessions.delete(session)
      abort.abort()
      if (stdin && !stdin.writableEnded) stdin.end()
    })
    session.on('goaway', () => {
      if (!started || finished) session.close()
    })
    let finished = false
    session.on('stream', (s: SpdyStream) => {
      const type = s.header('streamtype') ?? ''
      streams[type] = s
      if (type === 'stdin' && stdin) {
        s.on('data', (d: Buffer) => {
          // back-pressure: stop reading the connection until the command takes its input
          if (!stdin.write(d) && !stdin.writableEnded) {
            socket.pause()
            stdin.once('drain', () => socket.resume())
          }
        })
        s.on('end', () => {
          if (!stdin.writableEnded) stdin.end()
        })
      }
      const ready = (Object.keys(wants) as Array<keyof typeof wants>).every((k) => !wants[k] || streams[k])
      if (!ready || started) return
      started = true
      clearTimeout(startTimer)
      const rt = this.pods.get(this.key(t, ns, name))
      const stdout = streams.stdout ? streamWriter(streams.stdout) : discard()
      const stderr = streams.stderr ? streamWriter(streams.stderr) : tty ? stdout : discard()
      const onClusterClose = (): void => abort.abort()
      this.abort.signal.addEventListener('abort', onClusterClose, { once: true })
      void runExec(rt?.exec, { namespace: ns, pod: name, container, argv, stdin, stdout, stderr, tty, signal: abort.signal })
        .then(async (code) => {
          await Promise.all([endWriter(stdout), endWriter(stderr)])
          const errStream = streams.error!
          if (protocol === 'v4.channel.k8s.io') {
            const status =
              code === 0
                ? { metadata: {}, status: 'Success' }
                : {
                    metadata: {},
                    status: 'Failure',
                    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
                    reason: 'NonZeroExitCode',
                    details: { causes: [{ reason: 'ExitCode', message: String(code) }] }
                  }
            errStream.write(Buffer.from(JSON.stringify(status)))
          } else if (code !== 0) {
            errStream.write(Buffer.from(`command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`))
          }
          errStream.end()
          finished = true
          // kubectl closes the connection when it has read everything; do it ourselves if it does not
          setTimeout(() => session.destroy(), 5000).unref()
        })
        .finally(() => this.abort.signal.removeEventListener('abort', onClusterClose))
    })
  }

  async close(): Promise<void> {
    this.abort.abort()
    for (const s of this.sessions) s.destroy()
    for (const r of this.openResponses) r.end()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    for (const s of this.sockets) s.destroy()
    await closed
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.settled(), new Promise<void>((r) => (timer = setTimeout(r, 2000)))])
    clearTimeout(timer)
  }
}

async function runExec(handler: ExecHandler | undefined, req: ExecRequest): Promise<number> {
  if (!handler) {
    req.stderr.write(`sandbox: pod ${req.namespace}/${req.pod} has no exec handler\n`)
    return 126
  }
  try {
    return await handler(req)
  } catch (err) {
    req.stderr.write(`sandbox: exec handler failed: ${(err as Error).message}\n`)
    return 126
  }
}

function streamWriter(s: SpdyStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      s.write(Buffer.from(chunk), () => cb())
    },
    final(cb) {
      s.end(() => cb())
    }
  })
}

function discard(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() })
}

function endWriter(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (w.writableFinished) return resolve()
    w.once('finish', () => resolve())
    w.once('error', () => resolve())
    if (!w.writableEnded) w.end()
  })
}

function shapeLog(text: Buffer, opts: LogOptions): Buffer {
  let out = text
  if (opts.tailLines !== undefined && opts.tailLines >= 0) {
    const s = out.toString()
    const lines = s.split('\n')
    const trailing = s.endsWith('\n')
    if (trailing) lines.pop()
    const kept = opts.tailLines === 0 ? [] : lines.slice(-opts.tailLines)
    out = Buffer.from(kept.length ? kept.join('\n') + (trailing ? '\n' : '') : '')
  }
  if (opts.limitBytes !== undefined && opts.limitBytes >= 0) out = out.subarray(0, opts.limitBytes)
  return out
}

function containerSpecs(containers: ContainerOptions[]): Obj[] {
  return containers.map((c) => ({
    name: c.name,
    image: c.image ?? `sandbox/${c.name}:latest`,
    imagePullPolicy: 'IfNotPresent',
    ...(c.ports?.length ? { ports: c.ports.map((p) => ({ containerPort: p, protocol: 'TCP' })) } : {}),
    ...(c.env ? { env: Object.entries(c.env).map(([name, value]) => ({ name, value })) } : {}),
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File'
  }))
}

function podStatus(pod: Obj, s: { phase: string; ready: boolean; hostIP: string; podIP: string; started: string; restarts: number }): Obj {
  const running = s.phase === 'Running'
  const ready = running && s.ready
  const cond = (type: string, ok: boolean): Obj => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: s.started })
  return {
    phase: s.phase,
    conditions: [cond('Initialized', true), cond('Ready', ready), cond('ContainersReady', ready), cond('PodScheduled', true)],
    hostIP: s.hostIP,
    podIP: s.podIP,
    podIPs: [{ ip: s.podIP }],
    startTime: s.started,
    containerStatuses: (pod.spec.containers as Obj[]).map((c) => ({
      name: c.name,
      state: running ? { running: { startedAt: s.started } } : s.phase === 'Pending' ? { waiting: { reason: 'ContainerCreating' } } : { terminated: { exitCode: s.phase === 'Succeeded' ? 0 : 1, reason: s.phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: s.started, finishedAt: now() } },
      lastState: {},
      ready,
      restartCount: s.restarts,
      image: c.image,
      imageID: `docker-pullable://${c.image}`,
      containerID: `containerd://${Buffer.from(`${pod.metadata.namespace}/${pod.metadata.name}/${c.name}`).toString('hex').slice(0, 64).padEnd(64, '0')}`,
      started: running
    })),
    qosClass: 'BestEffort'
  }
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(String(req.headers.accept ?? ''))
}

async function readBody(req: IncomingMessage): Promise<unknown> {
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

function applyPatch(contentType: string, target: unknown, patch: unknown): unknown {
  try {
    switch (contentType) {
      case 'application/merge-patch+json':
        return mergePatch(target, patch)
      case 'application/strategic-merge-patch+json':
        return strategicMergePatch(target, patch)
      case 'application/json-patch+json':
        return jsonPatch(target, patch)
      default:
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`)
    }
  } catch (err) {
    if (err instanceof JsonPatchError) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`)
    throw err
  }
}

/** Starts one cluster's API server on 127.0.0.1 (an ephemeral port unless opts.port). */
export async function startKubeCluster(opts: KubeClusterOptions): Promise<KubeCluster> {
  const cluster = new Cluster(opts)
  await cluster.listen()
  return cluster
}
