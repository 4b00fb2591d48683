// The resource types the double serves: what discovery announces about them and how `kubectl get`
// shows them (the server-side Table columns the real API server prints).
import type { KubeObject } from './types.ts'

export interface Column {
  name: string
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean'
  format?: string
  priority?: number
  cell: (o: KubeObject) => unknown
}

export interface ResourceType {
  group: string
  version: string
  /** plural, e.g. 'pods' */
  name: string
  singular: string
  kind: string
  namespaced: boolean
  shortNames?: string[]
  categories?: string[]
  subresources?: string[]
  /** spec changes bump metadata.generation */
  generation?: boolean
  columns: Column[]
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export function age(o: KubeObject): string {
  const t = Date.parse(String(o.metadata.creationTimestamp ?? ''))
  if (Number.isNaN(t)) return '<unknown>'
  return humanDuration(Math.max(0, Date.now() - t) / 1000)
}

/** The shape of k8s.io/apimachinery's duration.HumanDuration. */
export function humanDuration(seconds: number): string {
  const s = Math.floor(seconds)
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`
  if (m < 180) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`
  if (h < 48) return `${h}h`
  const d = Math.floor(h / 24)
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`
  if (h < 24 * 365 * 2) return `${d}d`
  return `${Math.floor(d / 365)}y`
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name }
const AGE: Column = { name: 'Age', type: 'string', cell: age }

function containers(o: KubeObject): Obj[] {
  return ((o as Obj).spec?.template?.spec?.containers ?? []) as Obj[]
}
function selectorText(o: KubeObject): string {
  const m = ((o as Obj).spec?.selector?.matchLabels ?? {}) as Record<string, string>
  return Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'
}

const podColumns: Column[] = [
  NAME,
  {
    name: 'Ready',
    type: 'string',
    cell: (o) => {
      const cs = ((o as Obj).status?.containerStatuses ?? []) as Obj[]
      return `${cs.filter((c) => c.ready).length}/${((o as Obj).spec?.containers ?? []).length}`
    }
  },
  { name: 'Status', type: 'string', cell: (o) => ((o as Obj).metadata.deletionTimestamp ? 'Terminating' : (o as Obj).status?.phase ?? 'Unknown') },
  {
    name: 'Restarts',
    type: 'integer',
    cell: (o) => (((o as Obj).status?.containerStatuses ?? []) as Obj[]).reduce((n, c) => n + (c.restartCount ?? 0), 0)
  },
  AGE,
  { name: 'IP', type: 'string', priority: 1, cell: (o) => (o as Obj).status?.podIP ?? '<none>' },
  { name: 'Node', type: 'string', priority: 1, cell: (o) => (o as Obj).spec?.nodeName ?? '<none>' },
  { name: 'Nominated Node', type: 'string', priority: 1, cell: () => '<none>' },
  { name: 'Readiness Gates', type: 'string', priority: 1, cell: () => '<none>' }
]

const workloadWide: Column[] = [
  { name: 'Containers', type: 'string', priority: 1, cell: (o) => containers(o).map((c) => c.name).join(',') },
  { name: 'Images', type: 'string', priority: 1, cell: (o) => containers(o).map((c) => c.image).join(',') }
]

export const BUILTIN_RESOURCES: ResourceType[] = [
  {
    group: '', version: 'v1', name: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'],
    subresources: ['status', 'finalize'],
    columns: [NAME, { name: 'Status', type: 'string', cell: (o) => (o as Obj).status?.phase ?? 'Active' }, AGE]
  },
  {
    group: '', version: 'v1', name: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'],
    subresources: ['exec', 'log', 'status', 'attach', 'portforward'], columns: podColumns
  },
  {
    group: '', version: 'v1', name: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true,
    columns: [
      NAME,
      { name: 'Type', type: 'string', cell: (o) => (o as Obj).type ?? 'Opaque' },
      { name: 'Data', type: 'integer', cell: (o) => Object.keys((o as Obj).data ?? {}).length },
      AGE
    ]
  },
  {
    group: '', version: 'v1', name: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'],
    columns: [NAME, { name: 'Data', type: 'integer', cell: (o) => Object.keys((o as Obj).data ?? {}).length + Object.keys((o as Obj).binaryData ?? {}).length }, AGE]
  },
  {
    group: '', version: 'v1', name: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'],
    columns: [
      NAME,
      { name: 'Type', type: 'string', cell: (o) => (o as Obj).spec?.type ?? 'ClusterIP' },
      { name: 'Cluster-IP', type: 'string', cell: (o) => (o as Obj).spec?.clusterIP ?? '<none>' },
      { name: 'External-IP', type: 'string', cell: (o) => (((o as Obj).status?.loadBalancer?.ingress ?? []) as Obj[]).map((i) => i.ip ?? i.hostname).join(',') || '<none>' },
      { name: 'Port(s)', type: 'string', cell: (o) => (((o as Obj).spec?.ports ?? []) as Obj[]).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>' },
      AGE
    ]
  },
  {
    group: '', version: 'v1', name: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'],
    columns: [
      { name: 'Last Seen', type: 'string', cell: (o) => age({ metadata: { creationTimestamp: (o as Obj).lastTimestamp ?? o.metadata.creationTimestamp } }) },
      { name: 'Type', type: 'string', cell: (o) => (o as Obj).type ?? 'Normal' },
      { name: 'Reason', type: 'string', cell: (o) => (o as Obj).reason ?? '' },
      { name: 'Object', type: 'string', cell: (o) => `${String((o as Obj).involvedObject?.kind ?? '').toLowerCase()}/${(o as Obj).involvedObject?.name ?? ''}` },
      { name: 'Message', type: 'string', cell: (o) => (o as Obj).message ?? '' }
    ]
  },
  {
    group: '', version: 'v1', name: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'],
    columns: [
      NAME,
      {
        name: 'Status', type: 'string',
        cell: (o) => ((((o as Obj).status?.conditions ?? []) as Obj[]).find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady')
      },
      { name: 'Roles', type: 'string', cell: () => '<none>' },
      AGE,
      { name: 'Version', type: 'string', cell: (o) => (o as Obj).status?.nodeInfo?.kubeletVersion ?? '' },
      { name: 'Internal-IP', type: 'string', priority: 1, cell: (o) => (((o as Obj).status?.addresses ?? []) as Obj[]).find((a) => a.type === 'InternalIP')?.address ?? '<none>' }
    ]
  },
  {
    group: 'apps', version: 'v1', name: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'],
    categories: ['all'], subresources: ['scale', 'status'], generation: true,
    columns: [
      NAME,
      { name: 'Ready', type: 'string', cell: (o) => `${(o as Obj).status?.readyReplicas ?? 0}/${(o as Obj).spec?.replicas ?? 0}` },
      { name: 'Up-to-date', type: 'integer', cell: (o) => (o as Obj).status?.updatedReplicas ?? 0 },
      { name: 'Available', type: 'integer', cell: (o) => (o as Obj).status?.availableReplicas ?? 0 },
      AGE,
      ...workloadWide,
      { name: 'Selector', type: 'string', priority: 1, cell: selectorText }
    ]
  },
  {
    group: 'apps', version: 'v1', name: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', namespaced: true, shortNames: ['sts'],
    categories: ['all'], subresources: ['scale', 'status'], generation: true,
    columns: [NAME, { name: 'Ready', type: 'string', cell: (o) => `${(o as Obj).status?.readyReplicas ?? 0}/${(o as Obj).spec?.replicas ?? 0}` }, AGE, ...workloadWide]
  },
  {
    group: 'coordination.k8s.io', version: 'v1', name: 'leases', singular: 'lease', kind: 'Lease', namespaced: true,
    columns: [NAME, { name: 'Holder', type: 'string', cell: (o) => (o as Obj).spec?.holderIdentity ?? '' }, AGE]
  },
  {
    group: 'apigee.cloud.google.com', version: 'v1alpha1', name: 'apigeedatastores', singular: 'apigeedatastore', kind: 'ApigeeDatastore',
    namespaced: true, shortNames: ['apigeeds'], subresources: ['status'], generation: true,
    columns: [NAME, { name: 'State', type: 'string', cell: (o) => (o as Obj).status?.state ?? '' }, AGE]
  },
  {
    group: 'apigee.cloud.google.com', version: 'v1alpha1', name: 'cassandradatareplications', singular: 'cassandradatareplication',
    kind: 'CassandraDataReplication', namespaced: true, shortNames: ['cdr'], subresources: ['status'], generation: true,
    columns: [NAME, { name: 'Source', type: 'string', cell: (o) => (o as Obj).spec?.source?.region ?? '' }, { name: 'State', type: 'string', cell: (o) => (o as Obj).status?.state ?? '' }, AGE]
  },
  // Istio's traffic objects (networking.istio.io/v1), with the columns of Istio's CRDs; the traffic
  // sandbox translates them into Envoy configuration as istiod does.
  {
    group: 'networking.istio.io', version: 'v1', name: 'gateways', singular: 'gateway', kind: 'Gateway', namespaced: true, shortNames: ['gw'],
    categories: ['istio-io', 'networking-istio-io'], generation: true, columns: [NAME, AGE]
  },
  {
    group: 'networking.istio.io', version: 'v1', name: 'virtualservices', singular: 'virtualservice', kind: 'VirtualService', namespaced: true,
    shortNames: ['vs'], categories: ['istio-io', 'networking-istio-io'], generation: true,
    columns: [
      NAME,
      { name: 'Gateways', type: 'string', cell: (o) => JSON.stringify((o as Obj).spec?.gateways ?? []) },
      { name: 'Hosts', type: 'string', cell: (o) => JSON.stringify((o as Obj).spec?.hosts ?? []) },
      AGE
    ]
  },
  {
    group: 'networking.istio.io', version: 'v1', name: 'destinationrules', singular: 'destinationrule', kind: 'DestinationRule', namespaced: true,
    shortNames: ['dr'], categories: ['istio-io', 'networking-istio-io'], generation: true,
    columns: [NAME, { name: 'Host', type: 'string', cell: (o) => (o as Obj).spec?.host ?? '' }, AGE]
  },
  // Chaos Mesh's HTTP fault (chaos-mesh.org/v1alpha1); the traffic sandbox plays its controller.
  {
    group: 'chaos-mesh.org', version: 'v1alpha1', name: 'httpchaos', singular: 'httpchaos', kind: 'HTTPChaos', namespaced: true,
    categories: ['all', 'chaos-mesh'], subresources: ['status'], generation: true,
    columns: [NAME, { name: 'Duration', type: 'string', cell: (o) => (o as Obj).spec?.duration ?? '' }, AGE]
  }
]

/** APIResourceList entries (the resource plus its subresources) for one group/version. */
export function apiResources(types: ResourceType[]): Obj[] {
  const out: Obj[] = []
  for (const t of types) {
    out.push({
      name: t.name,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: VERBS,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {})
    })
    for (const sub of t.subresources ?? []) {
      const kind = sub === 'scale' ? 'Scale' : sub === 'exec' || sub === 'attach' ? 'PodExecOptions' : sub === 'log' ? 'Pod' : sub === 'portforward' ? 'PodPortForwardOptions' : t.kind
      const verbs = sub === 'exec' || sub === 'attach' || sub === 'portforward' ? ['create', 'get'] : sub === 'log' ? ['get'] : ['get', 'patch', 'update']
      out.push({ name: `${t.name}/${sub}`, singularName: '', namespaced: t.namespaced, ...(sub === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}), kind, verbs })
    }
  }
  return out
}

export function groupVersion(t: { group: string; version: string }): string {
  return t.group ? `${t.group}/${t.version}` : t.version
}

/** A label selector as kubectl sends it: a=b, a==b, a!=b, a in (x,y), a notin (x), a, !a. */
export function parseLabelSelector(text: string): (labels: Record<string, string>) => boolean {
  const terms: Array<(l: Record<string, string>) => boolean> = []
  // split on commas outside parentheses
  const parts: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  parts.push(cur)
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    let m: RegExpMatchArray | null
    if ((m = raw.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const [, key, op, list] = m
      const values = list.split(',').map((v) => v.trim())
      terms.push(op === 'in' ? (l) => key in l && values.includes(l[key]) : (l) => !(key in l) || !values.includes(l[key]))
    } else if ((m = raw.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/))) {
      const [, key, op, value] = m
      terms.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value)
    } else if ((m = raw.match(/^!([\w./-]+)$/))) {
      const key = m[1]
      terms.push((l) => !(key in l))
    } else if ((m = raw.match(/^([\w./-]+)$/))) {
      const key = m[1]
      terms.push((l) => key in l)
    } else {
      throw new Error(`unable to parse requirement: ${JSON.stringify(raw)}`)
    }
  }
  return (labels) => terms.every((t) => t(labels))
}

/** A field selector: path=value, path==value, path!=value (paths like metadata.name, status.phase). */
export function parseFieldSelector(text: string): (o: KubeObject) => boolean {
  const terms: Array<(o: KubeObject) => boolean> = []
  for (const raw of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = raw.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/)
    if (!m) throw new Error(`invalid field selector: ${JSON.stringify(raw)}`)
    const [, path, op, value] = m
    const get = (o: KubeObject): string => {
      let cur: unknown = o
      for (const p of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Obj)[p] : undefined
      return cur === undefined || cur === null ? '' : String(cur)
    }
    terms.push(op === '!=' ? (o) => get(o) !== value : (o) => get(o) === value)
  }
  return (o) => terms.every((t) => t(o))
}
