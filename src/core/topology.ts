// The topology file: the world described once (regions, their Azure network, Kubernetes
// context, Cassandra datacenter, ingress, where the service mesh's objects live). Every action reads it; inputs override its fields.
import { existsSync, readFileSync } from 'node:fs'
import YAML from 'yaml'
import { ActionError, InputErrors } from './errors.ts'
import { fallback, isCidr, type Fallback, type InputReader } from './inputs.ts'
import { type Rule, rules } from './patterns.ts'

export interface RegionAzure {
  subscription?: string
  resourceGroup?: string
  vnet?: string
  nsg?: string
}
export interface RegionKube {
  context?: string
  kubeconfig?: string
  namespace?: string
}
/** The region's AKS cluster: with it an action fetches the kubeconfig itself through ARM
 *  (listClusterUserCredential, format exec) and signs in with kubelogin (workload identity). */
export interface RegionAks {
  subscription: string
  resourceGroup: string
  name: string
}
export interface RegionCassandra {
  datacenter?: string
  rack?: string
  overrides?: string
}
/** The k8sCluster block the region's overrides carry (Apigee: the cluster the runtime registers as). */
export interface RegionK8sCluster {
  name?: string
  region?: string
}
export interface RegionIngress {
  url?: string
  /** How to recognise a response from this region: a regex on the body... */
  body?: string
  /** ...or a header "name: regex"... */
  header?: string
  /** ...or a JSON field "path=value". */
  json?: string
}
export interface RegionService {
  deployment?: string
  namespace?: string
}
export interface Region {
  name: string
  azure: RegionAzure
  kube: RegionKube
  aks?: RegionAks
  cassandra: RegionCassandra
  k8sCluster: RegionK8sCluster
  ingress: RegionIngress
  service: RegionService
}
/** Cloud endpoints for every Azure call (sovereign clouds, private endpoints, the sandbox). */
export interface TopologyAzure {
  /** Azure Resource Manager endpoint, e.g. https://management.usgovcloudapi.net */
  endpoint?: string
  /** Entra ID authority host, e.g. https://login.microsoftonline.us */
  authorityHost?: string
  /** Extra CA to trust for ARM and Entra: a PEM file path (relative to the workspace) or PEM text */
  ca?: string
}
/** Where the service mesh's Istio objects (DestinationRule, VirtualService) live: a namespace in
 *  the cluster of one region (its kube context / kubeconfig). verify-failover's prechecks read them. */
export interface TopologyMesh {
  namespace?: string
  /** The region whose cluster holds them (a key of regions). */
  region?: string
}
export interface Topology {
  path: string
  azure: TopologyAzure
  /** Absent when the file has no mesh: section. */
  mesh?: TopologyMesh
  cassandra: {
    namespace: string
    clusterName?: string
    credentialsSecret: string
    caSecret: string
    caNamespace: string
  }
  regions: Record<string, Region>
  addressSpaces: Record<string, string[]>
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

class Checker {
  readonly errors: ActionError[] = []
  private readonly file: string
  constructor(file: string) {
    this.file = file
  }
  err(path: string, problem: string, fix: string): void {
    this.errors.push(new ActionError(`topology ${this.file}: ${path}: ${problem}`, fix))
  }
  obj(o: Obj, key: string, path: string): Obj {
    const v = o[key]
    if (v === undefined || v === null) return {}
    if (!isObj(v)) {
      this.err(`${path}.${key}`, 'must be a mapping', `write it as '${key}: { ... }'`)
      return {}
    }
    return v
  }
  str(o: Obj, key: string, path: string, rule?: Rule, allowed?: string[]): string | undefined {
    const v = o[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.err(`${path}.${key}`, `must be a string, got ${Array.isArray(v) ? 'a list' : typeof v}`, rule?.accepted ?? 'a string')
      return undefined
    }
    const s = String(v)
    if (rule && !rule.re.test(s)) this.err(`${path}.${key}`, `'${s}' is not valid`, rule.accepted)
    if (allowed && !allowed.includes(key)) this.err(`${path}.${key}`, 'unknown field', `use one of ${allowed.join(', ')}`)
    return s
  }
  unknown(o: Obj, path: string, known: string[]): void {
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) this.err(`${path}.${k}`, 'unknown field', `known fields here: ${known.join(', ')}`)
    }
  }
}

export function loadTopology(path: string): Topology {
  if (!existsSync(path)) throw new ActionError(`topology file '${path}' does not exist`, "set input 'topology' to the path of your mr-topology.yml, relative to the workspace")
  return parseTopology(readFileSync(path, 'utf8'), path)
}

export function parseTopology(text: string, path = 'mr-topology.yml'): Topology {
  const doc = YAML.parseDocument(text)
  if (doc.errors.length) {
    const e = doc.errors[0]
    throw new ActionError(`topology ${path}: not valid YAML: ${e.message.split('\n')[0]}`, 'fix the YAML syntax at the line named')
  }
  const root = doc.toJS()
  const c = new Checker(path)
  if (!isObj(root)) throw new ActionError(`topology ${path}: must be a mapping with 'regions:'`, 'see docs/topology.md')
  c.unknown(root, '', ['azure', 'cassandra', 'mesh', 'regions', 'version'])
  const azure = c.obj(root, 'azure', '')
  c.unknown(azure, 'azure', ['endpoint', 'authorityHost', 'ca'])
  const cloudUrl = (key: string, example: string): string | undefined => {
    const v = c.str(azure, key, 'azure')
    if (v !== undefined && !/^https:\/\/[^\s/?#]+(:\d+)?(\/[^\s?#]*)?$/.test(v)) c.err(`azure.${key}`, `'${v}' is not an https URL`, `write it as ${example}`)
    return v
  }
  const cas = c.obj(root, 'cassandra', '')
  c.unknown(cas, 'cassandra', ['namespace', 'clusterName', 'credentialsSecret', 'caSecret', 'caNamespace'])
  const topo: Topology = {
    path,
    azure: {
      endpoint: cloudUrl('endpoint', 'https://management.azure.com'),
      authorityHost: cloudUrl('authorityHost', 'https://login.microsoftonline.com'),
      ca: c.str(azure, 'ca', 'azure')
    },
    cassandra: {
      namespace: c.str(cas, 'namespace', 'cassandra', rules.kubeName) ?? 'apigee',
      clusterName: c.str(cas, 'clusterName', 'cassandra'),
      credentialsSecret: c.str(cas, 'credentialsSecret', 'cassandra', rules.kubeName) ?? 'apigee-datastore-default-creds',
      caSecret: c.str(cas, 'caSecret', 'cassandra', rules.kubeName) ?? 'apigee-ca',
      caNamespace: c.str(cas, 'caNamespace', 'cassandra', rules.kubeName) ?? 'cert-manager'
    },
    regions: {},
    addressSpaces: {}
  }
  const regions = root.regions
  if (!isObj(regions) || Object.keys(regions).length === 0) {
    c.err('regions', 'missing or empty', 'list at least the source and the target region under regions:')
  } else {
    const dcs = new Map<string, string>()
    for (const [name, raw] of Object.entries(regions)) {
      const p = `regions.${name}`
      if (!rules.region.re.test(name)) c.err(p, `'${name}' is not a valid region key`, rules.region.accepted)
      if (!isObj(raw)) {
        c.err(p, 'must be a mapping', 'give azure:, kube:, cassandra: ... under each region')
        continue
      }
      c.unknown(raw, p, ['azure', 'kube', 'aks', 'cassandra', 'k8sCluster', 'ingress', 'service'])
      const az = c.obj(raw, 'azure', p)
      c.unknown(az, `${p}.azure`, ['subscription', 'resourceGroup', 'vnet', 'nsg', 'addressSpace'])
      const kube = c.obj(raw, 'kube', p)
      c.unknown(kube, `${p}.kube`, ['context', 'kubeconfig', 'namespace'])
      const aks = readAks(c, raw, p, az)
      const cr = c.obj(raw, 'cassandra', p)
      c.unknown(cr, `${p}.cassandra`, ['datacenter', 'rack', 'overrides'])
      const k8s = c.obj(raw, 'k8sCluster', p)
      c.unknown(k8s, `${p}.k8sCluster`, ['name', 'region'])
      const ing = c.obj(raw, 'ingress', p)
      c.unknown(ing, `${p}.ingress`, ['url', 'body', 'header', 'json'])
      const svc = c.obj(raw, 'service', p)
      c.unknown(svc, `${p}.service`, ['deployment', 'namespace'])
      const region: Region = {
        name,
        azure: {
          subscription: c.str(az, 'subscription', `${p}.azure`, rules.subscription),
          resourceGroup: c.str(az, 'resourceGroup', `${p}.azure`, rules.resourceGroup),
          vnet: c.str(az, 'vnet', `${p}.azure`, rules.azureName),
          nsg: c.str(az, 'nsg', `${p}.azure`, rules.azureName)
        },
        kube: {
          context: c.str(kube, 'context', `${p}.kube`, rules.kubeContext),
          kubeconfig: c.str(kube, 'kubeconfig', `${p}.kube`),
          namespace: c.str(kube, 'namespace', `${p}.kube`, rules.kubeName)
        },
        ...(aks ? { aks } : {}),
        cassandra: {
          datacenter: c.str(cr, 'datacenter', `${p}.cassandra`, rules.datacenter),
          rack: c.str(cr, 'rack', `${p}.cassandra`, rules.rack),
          overrides: c.str(cr, 'overrides', `${p}.cassandra`)
        },
        k8sCluster: {
          name: c.str(k8s, 'name', `${p}.k8sCluster`, rules.k8sClusterName),
          region: c.str(k8s, 'region', `${p}.k8sCluster`, rules.region)
        },
        ingress: {
          url: c.str(ing, 'url', `${p}.ingress`),
          body: c.str(ing, 'body', `${p}.ingress`),
          header: c.str(ing, 'header', `${p}.ingress`),
          json: c.str(ing, 'json', `${p}.ingress`)
        },
        service: {
          deployment: c.str(svc, 'deployment', `${p}.service`, rules.kubeName),
          namespace: c.str(svc, 'namespace', `${p}.service`, rules.kubeName)
        }
      }
      if (region.ingress.url !== undefined && !/^https?:\/\/[^\s]+$/.test(region.ingress.url)) {
        c.err(`${p}.ingress.url`, `'${region.ingress.url}' is not an http(s) URL`, 'write it as https://host[:port]/path')
      }
      if (region.ingress.body !== undefined) {
        try {
          new RegExp(region.ingress.body)
        } catch (e) {
          c.err(`${p}.ingress.body`, `not a valid regular expression (${(e as Error).message})`, 'use a JavaScript regular expression')
        }
      }
      const as = az.addressSpace
      if (as !== undefined) {
        const list = Array.isArray(as) ? as.map(String) : [String(as)]
        const bad = list.filter((x) => !isCidr(x))
        if (bad.length) c.err(`${p}.azure.addressSpace`, `not CIDR: ${bad.join(', ')}`, 'list IPv4 CIDR blocks such as 10.1.0.0/16')
        topo.addressSpaces[name] = list
      }
      const dc = region.cassandra.datacenter
      if (dc) {
        if (dcs.has(dc)) c.err(`${p}.cassandra.datacenter`, `'${dc}' is also the datacenter of region ${dcs.get(dc)}`, 'give every region its own datacenter name')
        dcs.set(dc, name)
      }
      topo.regions[name] = region
    }
  }
  const mesh = readMesh(c, root, isObj(regions) ? Object.keys(regions) : undefined)
  if (mesh) topo.mesh = mesh
  if (c.errors.length === 1) throw c.errors[0]
  if (c.errors.length > 1) throw new InputErrors(c.errors)
  return topo
}

/** mesh: { namespace, region }: the namespace is required; region, when given, must be a key of regions. */
function readMesh(c: Checker, root: Obj, regionKeys: string[] | undefined): TopologyMesh | undefined {
  if (root.mesh === undefined || root.mesh === null) return undefined
  if (!isObj(root.mesh)) {
    c.err('mesh', 'must be a mapping', "write it as 'mesh: { namespace: <namespace>, region: <region> }'")
    return undefined
  }
  const m = root.mesh
  c.unknown(m, 'mesh', ['namespace', 'region'])
  const namespace = c.str(m, 'namespace', 'mesh', rules.kubeName)
  if (m.namespace === undefined || m.namespace === null) {
    c.err('mesh.namespace', 'missing', "write it as 'mesh: { namespace: <namespace of the DestinationRules and VirtualServices>, region: <region whose cluster holds them> }'")
  }
  const region = c.str(m, 'region', 'mesh', rules.region)
  // a malformed key is already reported; without regions the missing regions are the one mistake
  if (region !== undefined && rules.region.re.test(region) && regionKeys?.length && !regionKeys.includes(region)) {
    c.err('mesh.region', `'${region}' is not a region of this file`, `name the region whose cluster holds the DestinationRules and VirtualServices, one of: ${regionKeys.join(', ')}`)
  }
  return { namespace, region }
}

/** regions.<r>.aks: name required; subscription and resourceGroup fall back to regions.<r>.azure. */
function readAks(c: Checker, raw: Obj, p: string, az: Obj): RegionAks | undefined {
  if (raw.aks === undefined || raw.aks === null) return undefined
  const aks = c.obj(raw, 'aks', p)
  c.unknown(aks, `${p}.aks`, ['subscription', 'resourceGroup', 'name'])
  const before = c.errors.length
  const subscription = c.str(aks, 'subscription', `${p}.aks`, rules.subscription) ?? c.str(az, 'subscription', `${p}.azure`, rules.subscription)
  const resourceGroup = c.str(aks, 'resourceGroup', `${p}.aks`, rules.resourceGroup) ?? c.str(az, 'resourceGroup', `${p}.azure`, rules.resourceGroup)
  const name = c.str(aks, 'name', `${p}.aks`, rules.aksName)
  if (c.errors.length > before) return undefined
  const missing = [...(subscription ? [] : ['subscription']), ...(resourceGroup ? [] : ['resourceGroup']), ...(name ? [] : ['name'])]
  if (missing.length) {
    c.err(
      `${p}.aks`,
      `missing ${missing.join(', ')}`,
      `write it as 'aks: { subscription: <GUID>, resourceGroup: <group>, name: <cluster> }' (subscription and resourceGroup may come from ${p}.azure)`
    )
    return undefined
  }
  return { subscription: subscription!, resourceGroup: resourceGroup!, name: name! }
}

/** The region named by an input, or an error naming the input and the regions that exist. */
export function regionOf(topo: Topology | undefined, name: string, input: string): Region {
  if (!topo) return emptyRegion(name)
  const r = topo.regions[name]
  if (!r) {
    throw new ActionError(
      `input '${input}': region '${name}' is not in topology ${topo.path}`,
      `use one of: ${Object.keys(topo.regions).join(', ')}`
    )
  }
  return r
}

export function emptyRegion(name: string): Region {
  return { name, azure: {}, kube: {}, cassandra: {}, k8sCluster: {}, ingress: {}, service: {} }
}

/** Input 'topology': its path and the parsed file; a file that does not load is recorded on the
 *  reader, so it is reported with every other input problem before anything changes. */
export function readTopologyInput(inputs: InputReader): { path?: string; topology?: Topology } {
  const path = inputs.string('topology', { accepted: 'the path of your mr-topology.yml' })
  if (path === undefined) return {}
  try {
    return { path, topology: loadTopology(path) }
  } catch (e) {
    inputs.failTopology(e as ActionError)
    return { path }
  }
}

/** A region input (source-region, target-region) looked up in the topology; problems recorded on the reader. */
export function readRegionInput(inputs: InputReader, topo: Topology | undefined, input: string): Region | undefined {
  const name = inputs.string(input, { pattern: rules.region.re, accepted: rules.region.accepted })
  // a malformed region name is already reported: the fields it would have filled are not missing
  if (name === undefined && inputs.given(input)) inputs.failTopology()
  if (!topo || !name) return undefined
  try {
    return regionOf(topo, name, input)
  } catch (e) {
    inputs.failTopology(e as ActionError)
    return undefined
  }
}

/** The topology fallback of an input from a field of a region ('' as its source when no region was named). */
export function fromRegion<T>(region: Region | undefined, field: string, value: T | undefined): Fallback<T> {
  return fallback(region ? `topology regions.${region.name}.${field}` : '', value)
}
