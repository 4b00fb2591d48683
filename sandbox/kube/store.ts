// The object store of one cluster: typed objects by group/resource/namespace/name, resourceVersions,
// the event history watchers replay, create/update/delete with the API server's validation and
// defaults, and the workload "controllers" (replica hooks, Deployment/StatefulSet status).
import { randomBytes, randomUUID } from 'node:crypto'
import { RBAC_RESOURCES } from './rbac.ts'
import { BUILTIN_RESOURCES, groupVersion, type ResourceType } from './resources.ts'
import { ApiError, clone, notFound, now, qualified, type Obj } from './errors.ts'
import { containerSpecs } from './pods.ts'
import type {
  ExecHandler,
  KubeClusterOptions,
  KubeObject,
  LogSource,
  PodOptions,
  ReplicaChange,
  ReplicaHook,
  WorkloadKind,
  WorkloadOptions
} from './types.ts'

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export interface PodRuntime {
  /** readiness the world wants; shown while the phase is Running */
  ready: boolean
  exec?: ExecHandler
  logs?: LogSource
  onDelete?: PodOptions['onDelete']
}

export interface Watcher {
  t: ResourceType
  namespace: string
  match: (o: KubeObject) => boolean
  send: (type: string, o: KubeObject) => void
}

export interface StoredEvent {
  rv: number
  type: string
  t: ResourceType
  obj: KubeObject
}

export class Store {
  readonly name: string
  readonly opts: KubeClusterOptions
  readonly hookErrors: Error[] = []
  readonly types: ResourceType[] = [...BUILTIN_RESOURCES, ...RBAC_RESOURCES]
  readonly objects = new Map<string, KubeObject>()
  /** the world's side of each pod: readiness, exec and log handlers */
  readonly pods = new Map<string, PodRuntime>()
  readonly workloadHooks = new Map<string, ReplicaHook>()
  readonly globalHooks: ReplicaHook[] = []
  readonly chains = new Map<string, Promise<void>>()
  readonly events: StoredEvent[] = []
  readonly watchers = new Set<Watcher>()
  /** aborted when the cluster closes */
  readonly abort = new AbortController()
  rv = 1

  constructor(opts: KubeClusterOptions) {
    this.opts = opts
    this.name = opts.name
    if (opts.onReplicas) this.globalHooks.push(opts.onReplicas)
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...(opts.namespaces ?? [])]) this.addNamespace(ns)
  }

  typeFor(resource: string): ResourceType {
    const r = resource.toLowerCase()
    const t = this.types.find(
      (x) => x.name === r || x.singular === r || x.kind.toLowerCase() === r || (x.shortNames ?? []).includes(r) || qualified(x) === r
    )
    if (!t) throw new Error(`sandbox kube: unknown resource ${resource}`)
    return t
  }

  typeForObject(obj: KubeObject): ResourceType {
    const [group, version] = String(obj.apiVersion ?? '').includes('/') ? String(obj.apiVersion).split('/') : ['', String(obj.apiVersion ?? 'v1')]
    const t = this.types.find((x) => x.kind === obj.kind && x.group === group && x.version === version)
    if (!t) throw new Error(`sandbox kube: unknown kind ${String(obj.apiVersion)}/${String(obj.kind)}`)
    return t
  }

  key(t: ResourceType, ns: string, name: string): string {
    return `${t.group}|${t.name}|${t.namespaced ? ns : ''}|${name}`
  }

  stored(t: ResourceType, ns: string, name: string): KubeObject | undefined {
    return this.objects.get(this.key(t, ns, name))
  }

  all(t: ResourceType, ns?: string): KubeObject[] {
    const prefix = `${t.group}|${t.name}|`
    const out: KubeObject[] = []
    for (const [k, o] of this.objects) if (k.startsWith(prefix) && (!ns || !t.namespaced || o.metadata.namespace === ns)) out.push(o)
    return out.sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`))
  }

  /** Stores (or deletes, obj undefined) and tells the watchers. */
  commit(t: ResourceType, ns: string, name: string, obj: KubeObject | undefined, type: 'ADDED' | 'MODIFIED' | 'DELETED'): KubeObject | undefined {
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

  ensureNamespace(ns: string): void {
    if (!this.stored(this.typeFor('namespaces'), '', ns)) this.addNamespace(ns)
  }

  addNamespace(name: string, labels: Record<string, string> = {}): KubeObject {
    const t = this.typeFor('namespaces')
    const existing = this.stored(t, '', name)
    if (existing) return clone(existing)
    return clone(this.create(t, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }, false))
  }

  /** Defaults and bookkeeping of a new object; throws ApiError when it is not acceptable. */
  create(t: ResourceType, ns: string, body: KubeObject, dryRun: boolean): KubeObject {
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
    // RBAC objects only need a valid path segment (system:basic-user); everything else a DNS name
    const valid =
      t.group === 'rbac.authorization.k8s.io'
        ? name !== '' && name !== '.' && name !== '..' && !/[/%]/.test(name)
        : t.kind === 'Namespace'
          ? DNS_LABEL.test(name) && name.length <= 63
          : DNS_SUBDOMAIN.test(name) && name.length <= 253
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

  isWorkload(t: ResourceType): boolean {
    return t.group === 'apps' && (t.kind === 'Deployment' || t.kind === 'StatefulSet')
  }

  defaults(t: ResourceType, obj: Obj, old: Obj | undefined): void {
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
  update(t: ResourceType, ns: string, name: string, body: Obj, dryRun: boolean, opts: { subresource?: string } = {}): KubeObject {
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

  remove(t: ResourceType, ns: string, name: string, dryRun: boolean): KubeObject {
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

  replicasChanged(t: ResourceType, before: KubeObject | undefined, after: KubeObject | undefined): void {
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
  setStatus(t: ResourceType, ns: string, name: string, ready: number | undefined, observedGeneration?: number, replicas?: number): void {
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
}
