// The sandbox world: two region clusters, each a Kubernetes API double that the real kubectl
// talks to (one kubeconfig, one context per region), with the Cassandra pods of a region mapped
// onto real Cassandra nodes (`kubectl exec POD -- nodetool|cqlsh ...` runs the real tools against
// that node, `kubectl logs POD` is its log). The source region runs from the start (dc-1); the
// new region's cluster exists but has no Cassandra until `installRegion` (the "hybrid runtime
// install") reads its overrides file and starts its nodes with the seed host, datacenter and rack
// given there. Cassandra runs with TLS as Apigee's does (internode `all`, clients required), each
// node's certificate issued from its own cluster's cert-manager/apigee-ca: with another CA than
// the source's, the new nodes' handshakes fail for real and the install fails with their log line.
//
// The world lives in a daemon process (`node sandbox/cli.ts serve`): the Kubernetes doubles are
// in-process HTTPS servers and must outlive `sandbox up` and jest's global setup. The daemon
// writes <runDir>/world.json (mode 600) with what runs where and a control URL + token; clients
// (the CLI, tests in jest workers) use `connectWorld()` and call the control API over loopback.
//
//   const w = await up()                 // starts the daemon (or reuses a running world)
//   w.state.kubeconfig, w.state.regions  // contexts, pods, addresses, ports
//   await w.installRegion('centralus')   // reads the region's overrides file
//   await down()                         // stops daemon and nodes; no process, no port left
//
// The state it keeps (types, constants, world.json) is in world-state.ts; up / down /
// connectWorld, the client side, in world-client.ts.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import YAML from 'yaml'
import { readInstallValues, type InstallValues } from './overrides-values.ts'
import { CassandraCluster, CassandraError, DEFAULT_RUN_DIR, JoinError, PROJECT_ROOT } from './cassandra/cluster.ts'
import { NATIVE_PORT, STORAGE_PORT, type NodeSpec } from './cassandra/config.ts'
import { portOpen } from './cassandra/proc.ts'
import { seedData } from './cassandra/seed.ts'
import { apigeeUsers, createApigeeRoles, credentialsSecretData } from './datastore-creds.ts'
import { localProcessExec, startKubeCluster, writeKubeconfig, type KubeCluster, type PodHandle } from './kube/index.ts'
import { serverTls } from './tls.ts'
import { startWorldAks, type WorldAks, type WorldAksOptions } from './world-aks.ts'
import { startWorldTraffic, type WorldTraffic, type WorldTrafficOptions } from './world-traffic.ts'
import { CA_NAMESPACE, CA_SECRET, CASSANDRA_STS, CREDS_SECRET, InstallError, NAMESPACE, RUNTIME_DEPLOYMENT, worldFile, type PodInfo, type RegionConfig, type RegionState, type WorldOptions, type WorldState } from './world-state.ts'

const DEFAULT_SOURCE: RegionConfig = { name: 'eastus', context: 'aks-eastus', datacenter: 'dc-1', rack: 'ra-1', nodes: 2 }
const DEFAULT_TARGET: RegionConfig = { name: 'centralus', context: 'aks-centralus', datacenter: 'dc-2', rack: 'ra-1', nodes: 1 }

const b64 = (s: string): string => Buffer.from(s).toString('base64')

// =============================================================================================
// The daemon side: builds and serves the world.
// =============================================================================================

interface RegionRuntime {
  state: RegionState
  kube: KubeCluster
  pods: Map<string, PodHandle>
}

export class World {
  readonly runDir: string
  readonly cassandra: CassandraCluster
  readonly state: WorldState
  private readonly regions = new Map<string, RegionRuntime>()
  private monitor?: NodeJS.Timeout
  private control?: ReturnType<typeof createServer>
  private installing: Promise<unknown> = Promise.resolve()
  private readonly trafficOptions?: WorldTrafficOptions
  private readonly aksOptions?: WorldAksOptions
  private aks?: WorldAks
  private traffic?: WorldTraffic

  constructor(o: WorldOptions = {}) {
    this.runDir = o.runDir ?? DEFAULT_RUN_DIR
    this.trafficOptions = o.traffic
    this.aksOptions = o.aks
    const clusterName = o.clusterName ?? 'apigeecluster'
    const addressBase = o.addressBase ?? Number(process.env.SANDBOX_ADDRESS_BASE ?? 0)
    // TLS as Apigee runs it: each node's certificate issued at install time from its region's
    // cert-manager/apigee-ca, which is also all the node trusts
    this.cassandra = new CassandraCluster({ runDir: this.runDir, clusterName, addressBase, version: o.cassandraVersion, caFor: (spec) => this.regionCa(spec.datacenter) })
    const source = { ...DEFAULT_SOURCE, ...o.source }
    const target = { ...DEFAULT_TARGET, ...o.target }
    this.state = {
      status: 'starting',
      pid: process.pid,
      runDir: this.runDir,
      controlUrl: '',
      controlToken: randomBytes(24).toString('base64url'),
      kubeconfig: join(this.runDir, 'kubeconfig'),
      topology: join(this.runDir, 'topology.yaml'),
      org: o.org ?? 'example',
      clusterName,
      addressBase,
      cassandraVersion: this.cassandra.runtime.version,
      rowsPerTable: o.rowsPerTable ?? Number(process.env.SANDBOX_SEED_ROWS ?? 200),
      namespace: NAMESPACE,
      regions: [
        { ...source, role: 'source', server: '', overrides: join(this.runDir, `overrides-${source.name}.yaml`), installed: false, pods: [] },
        { ...target, role: 'target', server: '', overrides: join(this.runDir, `overrides-${target.name}.yaml`), installed: false, pods: [] }
      ],
      startedAt: new Date().toISOString(),
      timings: {},
      peakRssMiB: 0
    }
  }

  private save(): void {
    mkdirSync(this.runDir, { recursive: true })
    writeFileSync(worldFile(this.runDir), JSON.stringify(this.state, null, 2) + '\n', { mode: 0o600 })
    chmodSync(worldFile(this.runDir), 0o600)
  }

  region(name: string): RegionRuntime {
    const r = this.regions.get(name) ?? [...this.regions.values()].find((x) => x.state.context === name || x.state.datacenter === name)
    if (!r) throw new InstallError(`no region '${name}' in the sandbox (regions: ${[...this.regions.keys()].join(', ')})`)
    return r
  }

  /** Builds the world: kube doubles, secrets, source Cassandra (started, auth, seed), pods. */
  async start(): Promise<void> {
    const t0 = Date.now()
    this.save()
    await this.startControl()
    this.save()
    const [source, target] = this.state.regions
    // The API servers first (a second): the nodes' certificates come from their cluster's CA secret.
    const tlsDir = join(this.runDir, 'tls')
    if (this.aksOptions) this.aks = await startWorldAks(this.aksOptions, tlsDir)
    for (const r of [source, target]) {
      const kube = await startKubeCluster({ name: r.context, tlsDir, namespaces: [NAMESPACE, CA_NAMESPACE], ...(this.aks ? { entra: this.aks.review } : {}) })
      r.server = kube.url
      this.regions.set(r.name, { state: r, kube, pods: new Map() })
      this.baseObjects(r, kube)
      this.aks?.addCluster(r.name, kube, r.role)
    }
    if (this.aks) this.state.aks = this.aks.state
    const specs = this.cassandra.dcSpecs(source.datacenter, source.nodes, { rack: source.rack })
    this.cassandra.start(specs)
    writeKubeconfig(this.state.kubeconfig, [...this.regions.values()].map((x) => x.kube), { currentContext: source.context, namespace: NAMESPACE })
    this.writeOverrides(source, true)
    this.writeOverrides(target, false)
    this.writeTopology()
    if (this.trafficOptions) {
      this.traffic = await startWorldTraffic(this.trafficOptions, Object.fromEntries([...this.regions].map(([n, r]) => [n, r.kube])))
      this.state.traffic = this.traffic.state
    }
    this.state.timings.kubeReadyMs = Date.now() - t0
    this.save()
    this.startMonitor()
    await this.cassandra.waitUp(specs)
    this.state.timings.sourceUnMs = Date.now() - t0
    await this.cassandra.bootstrapAuth(source.datacenter)
    await createApigeeRoles(this.cassandra, specs[0].name, apigeeUsers(this.runDir, NAMESPACE))
    this.state.timings.authMs = Date.now() - t0
    await seedData(this.cassandra, { org: this.state.org, dc: source.datacenter, rowsPerTable: this.state.rowsPerTable })
    this.state.timings.seededMs = Date.now() - t0
    this.addCassandraPods(this.region(source.name), specs)
    source.installed = true
    this.state.status = 'ready'
    this.state.timings.readyMs = Date.now() - t0
    this.sampleRss()
    this.save()
  }

  private baseObjects(r: RegionState, kube: KubeCluster): void {
    // Each cluster's cert-manager made its own CA; the procedure copies the original's over.
    const ca = serverTls(join(this.runDir, 'apigee-ca', r.name), 'apigee-cassandra', ['apigee-cassandra-default.apigee.svc'])
    kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: CA_SECRET, namespace: CA_NAMESPACE },
      data: { 'tls.crt': b64(readFileSync(ca.caFile, 'utf8')), 'tls.key': b64(readFileSync(join(this.runDir, 'apigee-ca', r.name, 'ca.key'), 'utf8')), 'ca.crt': b64(readFileSync(ca.caFile, 'utf8')) }
    })
    kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: CREDS_SECRET, namespace: NAMESPACE },
      data: credentialsSecretData(this.cassandra, apigeeUsers(this.runDir, NAMESPACE))
    })
    kube.addWorkload({
      kind: 'StatefulSet',
      namespace: NAMESPACE,
      name: CASSANDRA_STS,
      replicas: r.role === 'source' ? r.nodes : 0,
      selector: { app: 'apigee-cassandra' },
      serviceName: 'apigee-cassandra-default',
      containers: [{ name: 'apigee-cassandra', image: this.cassandraImage(), ports: [STORAGE_PORT, 7001, NATIVE_PORT, 7199] }],
      // Cassandra replicas follow the install, not `kubectl scale`: report what really runs.
      onReplicas: () => this.region(r.name).pods.size
    })
    kube.addWorkload({
      kind: 'Deployment',
      namespace: NAMESPACE,
      name: RUNTIME_DEPLOYMENT,
      replicas: 2,
      selector: { app: RUNTIME_DEPLOYMENT },
      containers: [{ name: 'apigee-runtime', image: 'apigee-runtime:sandbox', ports: [8443] }]
    })
  }

  /** the image a real install of this version would run (shown in the pods and the statefulset) */
  private cassandraImage(): string {
    return `apache/cassandra:${this.cassandra.runtime.version.split('.').slice(0, 2).join('.')}`
  }

  private writeOverrides(r: RegionState, withSeedSettings: boolean): void {
    if (existsSync(r.overrides)) return
    const doc = {
      instanceID: `sandbox-${r.name}`,
      k8sCluster: { name: r.context, region: r.name },
      org: this.state.org,
      cassandra: {
        hostNetwork: true,
        clusterName: this.state.clusterName,
        replicaCount: r.nodes,
        ...(withSeedSettings ? { datacenter: r.datacenter, rack: r.rack } : {})
      }
    }
    writeFileSync(r.overrides, `# Apigee hybrid overrides for ${r.name} (sandbox)\n${YAML.stringify(doc)}`)
  }

  private writeTopology(): void {
    const regions: Record<string, unknown> = {}
    for (const r of this.state.regions) {
      regions[r.name] = {
        kube: { context: r.context, kubeconfig: this.state.kubeconfig, namespace: NAMESPACE },
        cassandra: { datacenter: r.datacenter, rack: r.rack, overrides: r.overrides },
        service: { deployment: RUNTIME_DEPLOYMENT, namespace: NAMESPACE }
      }
    }
    const doc = {
      cassandra: { namespace: NAMESPACE, clusterName: this.state.clusterName, credentialsSecret: CREDS_SECRET, caSecret: CA_SECRET, caNamespace: CA_NAMESPACE },
      regions
    }
    writeFileSync(this.state.topology, `# the sandbox world (generated by sandbox/world.ts)\n${YAML.stringify(doc)}`)
    if (this.aks) {
      // AKS mode: each region names its managed cluster instead of a kubeconfig context
      const aks = this.aks.state
      for (const r of this.state.regions) {
        regions[r.name] = { ...(regions[r.name] as object), kube: { namespace: NAMESPACE }, aks: aks.placement[r.name] }
      }
      aks.topology = join(this.runDir, 'topology-aks.yaml')
      writeFileSync(aks.topology, `# the sandbox world in AKS mode (generated by sandbox/world.ts)\n${YAML.stringify(doc)}`)
    }
  }

  /** Pods apigee-cassandra-default-<i> mapped onto the nodes: exec runs the real tools there. */
  private addCassandraPods(rt: RegionRuntime, specs: NodeSpec[], o: { ready?: boolean; logs?: string } = {}): void {
    const bin = join(PROJECT_ROOT, '.cache', 'bin')
    const pods: PodInfo[] = []
    specs.forEach((spec) => {
      const index = Number(spec.name.split('-').pop())
      const name = `${CASSANDRA_STS}-${index}`
      const p = this.cassandra.paths(spec.name)
      const env = this.cassandra.nodeEnv(spec.name)
      mkdirSync(env.HOME, { recursive: true })
      const handle = rt.kube.addPod({
        namespace: NAMESPACE,
        name,
        labels: { app: 'apigee-cassandra', 'app.kubernetes.io/name': 'apigee-cassandra', name: CASSANDRA_STS, 'statefulset.kubernetes.io/pod-name': name },
        podIP: spec.address,
        hostIP: spec.address,
        hostNetwork: true,
        containers: [{ name: 'apigee-cassandra', image: this.cassandraImage(), ports: [STORAGE_PORT, 7001, NATIVE_PORT, 7199] }],
        ready: o.ready ?? this.cassandra.running(spec.name),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: CASSANDRA_STS, controller: true }],
        exec: localProcessExec({ env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` }, extraEnv: env, cwd: env.HOME }),
        logs: o.logs ?? { file: p.log }
      })
      rt.pods.set(name, handle)
      pods.push({ name, namespace: NAMESPACE, node: spec.name, address: spec.address, jmxPort: spec.jmxPort, nativePort: NATIVE_PORT, storagePort: STORAGE_PORT, log: p.log })
    })
    const keep = rt.state.pods.filter((x) => !pods.some((p) => p.name === x.name))
    rt.state.pods = [...keep, ...pods].sort((a, b) => a.name.localeCompare(b.name))
    this.syncStatefulSet(rt)
  }

  private syncStatefulSet(rt: RegionRuntime): void {
    const sts = rt.kube.get('statefulsets', NAMESPACE, CASSANDRA_STS)
    if (!sts) return
    const ready = [...rt.pods.values()].filter((p) => (p.object().status as { conditions?: { type: string; status: string }[] })?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length
    const spec = (sts.spec ?? {}) as Record<string, unknown>
    if (spec.replicas !== rt.pods.size) rt.kube.apply({ ...sts, spec: { ...spec, replicas: rt.pods.size } })
    rt.kube.setReadyReplicas('StatefulSet', NAMESPACE, CASSANDRA_STS, ready)
  }

  /** Pod readiness follows the node: process alive and CQL port open. Also samples memory. */
  private startMonitor(): void {
    const tick = async (): Promise<void> => {
      for (const rt of this.regions.values()) {
        for (const info of rt.state.pods) {
          const handle = rt.pods.get(info.name)
          if (!handle) continue
          const up = this.cassandra.running(info.node) && (await portOpen(info.address, NATIVE_PORT, 500))
          if (rt.state.installed || up) handle.setReady(up)
        }
        this.syncStatefulSet(rt)
      }
      this.sampleRss()
    }
    this.monitor = setInterval(() => void tick().catch(() => {}), 3000)
  }

  private sampleRss(): void {
    const mib = Math.round(Object.values(this.cassandra.rss()).reduce((a, b) => a + b, 0) / 2 ** 20)
    if (mib > this.state.peakRssMiB) {
      this.state.peakRssMiB = mib
      this.save()
    }
  }

  // ---- the hybrid runtime install for a region ---------------------------------------------

  /**
   * "Installs the hybrid runtime" in a region from its overrides file (default: the one the
   * world wrote, which configure-seed-host edits): checks what a real install would trip over,
   * then starts the region's Cassandra nodes with multiRegionSeedHost as seed and the given
   * datacenter / rack, and registers their pods. Re-applying to an installed region (e.g. after
   * the seed host was removed) updates the nodes' configuration and keeps them running.
   */
  installRegion(regionName: string, overridesPath?: string): Promise<RegionState> {
    const next = this.installing.then(() => this.doInstall(regionName, overridesPath))
    this.installing = next.catch(() => {})
    return next
  }

  private async doInstall(regionName: string, overridesPath?: string): Promise<RegionState> {
    const t0 = Date.now()
    const rt = this.region(regionName)
    const r = rt.state
    const file = overridesPath ?? r.overrides
    let cas: InstallValues
    try {
      cas = readInstallValues(file)
    } catch (e) {
      throw new InstallError((e as Error).message)
    }
    const replicaCount = Number(cas.replicaCount ?? r.nodes)
    const dc = cas.datacenter ?? 'dc-1'
    const rack = cas.rack ?? 'ra-1'
    const source = this.state.regions.find((x) => x.role === 'source')!
    const prefix = `apigeectl apply -f ${file} (context ${r.context})`

    if (cas.clusterName && cas.clusterName !== this.state.clusterName) {
      throw new InstallError(
        `${prefix}: apigee-cassandra-default-0 is in CrashLoopBackOff: org.apache.cassandra.exceptions.ConfigurationException: ` +
          `Saved cluster name ${this.state.clusterName} != configured name ${cas.clusterName} (cassandra.clusterName must match in every region)`
      )
    }
    if (!Number.isInteger(replicaCount) || replicaCount < 1 || replicaCount > 9) throw new InstallError(`${prefix}: cassandra.replicaCount must be 1-9, got ${replicaCount}`)
    if (r.role === 'target' && dc === source.datacenter) {
      throw new InstallError(`${prefix}: cassandra.datacenter is '${dc}', the datacenter of the original region; the new region needs its own (e.g. dc-2)`)
    }
    const seeds = (cas.multiRegionSeedHost ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    const installedHere = r.installed && rt.pods.size > 0
    if (!installedHere && r.role === 'target') {
      if (cas.hostNetwork !== true) {
        this.failedPods(rt, dc, replicaCount, [
          `WARN  [main] Seed ${seeds[0] ?? '(none)'}:${STORAGE_PORT} is not reachable from this pod network (AKS "island" networking: pod IPs are not routable between clusters)`,
          'ERROR [main] Exception encountered during startup',
          'java.lang.RuntimeException: Unable to gossip with any peers'
        ])
        throw new InstallError(
          `${prefix}: apigee-cassandra-default-0 in ${dc} never becomes ready: java.lang.RuntimeException: Unable to gossip with any peers. ` +
            `cassandra.hostNetwork is ${cas.hostNetwork === undefined ? 'not set' : String(cas.hostNetwork)} in the overrides: with AKS island networking the pods of two clusters cannot reach each other; set cassandra.hostNetwork: true`
        )
      }
      if (!seeds.length) {
        throw new InstallError(
          `${prefix}: cassandra.multiRegionSeedHost is not set and ${r.name} has no Cassandra yet: the new datacenter would form a cluster of its own. ` +
            `Set it to the IP of a Cassandra pod of the original region (kubectl get pods -o wide -n ${NAMESPACE} on ${source.context})`
        )
      }
    }
    for (const s of seeds) {
      const ok = this.cassandra.nodes().some((n) => n.address === s && this.cassandra.running(n.name))
      if (!ok) {
        throw new InstallError(`${prefix}: apigee-cassandra-default-0 in ${dc}: java.lang.RuntimeException: Unable to gossip with any peers (seed ${s} is not a running Cassandra node)`)
      }
    }

    const existing = this.cassandra.nodes().filter((n) => n.datacenter === dc)
    if (existing.length && existing.some((n) => n.rack !== rack)) {
      throw new InstallError(`${prefix}: cassandra.rack '${rack}' differs from the rack the nodes of ${dc} already run in (${existing[0].rack}); Cassandra refuses to change a node's rack`)
    }
    const ownSeeds = existing.length ? existing.map((n) => n.address) : undefined
    const specs = this.cassandra.dcSpecs(dc, replicaCount, {
      rack,
      seeds: seeds.length ? seeds : ownSeeds,
      autoBootstrap: false
    })
    // (Re-)write the configuration; running nodes keep running (their seeds matter at start only).
    for (const s of specs) this.cassandra.prepare(s)
    const toStart = specs.filter((s) => !this.cassandra.running(s.name))
    try {
      this.cassandra.start(toStart)
      if (toStart.length) await this.cassandra.waitUp(specs)
    } catch (e) {
      if (!(e instanceof JoinError)) throw e
      // Cassandra's own refusal (mTLS with another CA): the pods stay, never ready, their log
      // the node's; the JVMs stop (a reinstall starts them with freshly issued certificates).
      for (const s of toStart) await this.cassandra.stop(s.name, 5000)
      this.addCassandraPods(rt, specs, { ready: false })
      this.save()
      const pod = `${CASSANDRA_STS}-${e.node.split('-').pop()}`
      throw new InstallError(
        `${prefix}: ${pod} in ${dc} never joins the ring: ${e.logLine} (kubectl logs ${pod} --context ${r.context}). ` +
          `Its certificate was issued by the secret ${CA_SECRET} in namespace ${CA_NAMESPACE} of ${r.context}: if that is not the CA of ${source.context}, copy it from there (configure-seed-host) and install again`
      )
    }
    for (const p of [...rt.pods.keys()]) {
      if (!specs.some((s) => `${CASSANDRA_STS}-${s.name.split('-').pop()}` === p)) {
        rt.pods.get(p)?.remove()
        rt.pods.delete(p)
      }
    }
    this.addCassandraPods(rt, specs)
    r.installed = true
    r.datacenter = dc
    r.rack = rack
    r.nodes = replicaCount
    this.state.timings[`install-${r.name}-ms`] = Date.now() - t0
    this.sampleRss()
    this.save()
    return r
  }

  /** The CA a region's cert-manager issues from (its apigee-ca secret), for the nodes of datacenter dc. */
  private regionCa(dc: string): { crt: string; key: string } | undefined {
    const source = this.state.regions.find((x) => x.role === 'source')!
    const region = dc === source.datacenter ? source : this.state.regions.find((x) => x.role === 'target')!
    const secret = this.regions.get(region.name)?.kube.get('secrets', CA_NAMESPACE, CA_SECRET) as { data?: Record<string, string> } | undefined
    const crt = secret?.data?.['tls.crt'] ?? secret?.data?.['ca.crt']
    const key = secret?.data?.['tls.key']
    return crt && key ? { crt: Buffer.from(crt, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') } : undefined
  }

  /** Pods of a failed install: present, Running, never ready, logs saying why. */
  private failedPods(rt: RegionRuntime, dc: string, count: number, log: string[]): void {
    const specs = this.cassandra.dcSpecs(dc, count)
    for (const s of specs) this.cassandra.prepare(s)
    this.addCassandraPods(rt, specs, { ready: false, logs: log.join('\n') + '\n' })
  }

  // ---- control API (loopback, bearer token) ------------------------------------------------

  private startControl(): Promise<void> {
    this.control = createServer((req, res) => void this.handle(req, res))
    return new Promise((resolve) => {
      this.control!.listen(0, '127.0.0.1', () => {
        const addr = this.control!.address()
        this.state.controlUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`
        resolve()
      })
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const token = Buffer.from(String(req.headers.authorization ?? '').replace(/^Bearer /, ''))
    const want = Buffer.from(this.state.controlToken)
    if (token.length !== want.length || !timingSafeEqual(token, want)) return send(401, { error: 'unauthorized' })
    let body = ''
    for await (const chunk of req) body += chunk
    const args = body ? (JSON.parse(body) as Record<string, string>) : {}
    try {
      if (req.url === '/status') return send(200, this.state)
      if (req.url === '/install-region' && req.method === 'POST') return send(200, await this.installRegion(args.region, args.overrides))
      if (req.url === '/aks' && req.method === 'POST') {
        if (!this.aks) return send(409, { error: 'the world runs without the aks option' })
        const num = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v))
        this.state.aks = this.aks.tune({ tokenLifetimeSec: num(args.tokenLifetimeSec), idTokenLifetimeSec: num(args.idTokenLifetimeSec), idTokenSubject: args.idTokenSubject })
        this.save()
        return send(200, this.state.aks)
      }
      if (req.url === '/aks/record') return this.aks ? send(200, this.aks.record()) : send(409, { error: 'the world runs without the aks option' })
      if (req.url === '/down' && req.method === 'POST') {
        send(200, { ok: true })
        setImmediate(() => void this.stop().then(() => process.exit(0)))
        return
      }
      send(404, { error: `no such control endpoint ${req.url}` })
    } catch (e) {
      send(e instanceof InstallError || e instanceof CassandraError ? 409 : 500, { error: (e as Error).message })
    }
  }

  /** Stops nodes, servers and the control API; removes world.json. */
  async stop(): Promise<void> {
    this.state.status = 'stopping'
    this.save()
    if (this.monitor) clearInterval(this.monitor)
    // the world is thrown away at down: a short drain, then SIGKILL (data is not kept anyway)
    await this.cassandra.stopAll(4000)
    await this.traffic?.close().catch(() => {})
    await this.aks?.close().catch(() => {})
    await Promise.all([...this.regions.values()].map((r) => r.kube.close().catch(() => {})))
    await new Promise<void>((r) => (this.control ? this.control.close(() => r()) : r()))
    this.control?.closeAllConnections?.()
    rmSync(worldFile(this.runDir), { force: true })
  }
}

/** The daemon's main: build the world, serve until told to stop (or SIGTERM/SIGINT). */
export async function serve(o: WorldOptions): Promise<void> {
  const w = new World(o)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    void w.stop().finally(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  try {
    await w.start()
    console.log(`world ready in ${w.state.timings.readyMs} ms`)
  } catch (e) {
    w.state.status = 'failed'
    w.state.error = (e as Error).message
    console.error((e as Error).stack)
    writeFileSync(worldFile(w.runDir), JSON.stringify(w.state, null, 2) + '\n', { mode: 0o600 })
    await w.cassandra.stopAll(5000)
    process.exit(1)
  }
}
