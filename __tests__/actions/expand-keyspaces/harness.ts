// A small two-region world (with thirdDc, a third region's cluster too) for the integration tests
// of the actions and bench/expand.ts: real Cassandra 5.0 nodes (sandbox/cassandra), one Kubernetes API double per
// region (sandbox/kube) that the real kubectl talks to, Cassandra pods whose `kubectl exec` runs
// the real nodetool / cqlsh (and /bin/sh) "inside" that node, the vendor's credentials secret
// and a CA secret. "Installing the new region" starts its nodes from the overrides file that
// configure-seed-host wrote (seed host, datacenter, rack); nodes run with TLS, certificates issued
// from their cluster's apigee-ca, so a new region with another CA fails Cassandra's handshakes.
// Everything runs under /tmp/sandbox.lock (the Cassandra addresses are fixed).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBundle } from '../../helpers/bundle.ts'
import YAML from 'yaml'
import { CassandraCluster } from '../../../sandbox/cassandra/cluster.ts'
import { apigeeUsers, createApigeeRoles, credentialsSecretData } from '../../../sandbox/datastore-creds.ts'
import { cassandraRuntime } from '../../../sandbox/cassandra/version.ts'
import { localProcessExec, startKubeCluster, writeKubeconfig, type KubeCluster } from '../../../sandbox/kube/index.ts'
import type { StepResult } from '../../../sandbox/runner.ts'
import { startArmDouble, type ArmDouble } from '../../../sandbox/arm/server.ts'
import { AKS_SERVER_APP_ID } from '../../../sandbox/arm/entra.ts'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const BIN = join(ROOT, '.cache/bin')
export const haveSandbox = (): boolean => {
  const lib = cassandraRuntime().libDir
  return existsSync(join(BIN, 'kubectl')) && existsSync(join(BIN, 'cqlsh')) && existsSync(join(BIN, 'nodetool')) && existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('cassandra-all-'))
}

/** Holds /tmp/sandbox.lock until release() (a flock child waiting on our stdin). */
export async function lockSandbox(): Promise<() => void> {
  // Run under `flock /tmp/sandbox.lock ...` already: a second flock would wait for it forever.
  if (holdsLock('/tmp/sandbox.lock')) return () => {}
  const child: ChildProcess = spawn('flock', ['/tmp/sandbox.lock', 'sh', '-c', 'echo locked; cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] })
  await new Promise<void>((res, rej) => {
    child.stdout!.once('data', () => res())
    child.once('exit', (c) => rej(new Error(`flock exited ${c}`)))
  })
  return () => child.stdin!.end()
}

/** Whether an ancestor of this process (say `flock /tmp/sandbox.lock npm test`) holds the flock. */
function holdsLock(path: string): boolean {
  try {
    const ino = statSync(path).ino
    // /proc/locks: "1: FLOCK  ADVISORY  WRITE 5468 00:1f:1234 0 EOF" (waiters are "1: -> FLOCK ...")
    const holders = new Set(
      readFileSync('/proc/locks', 'utf8')
        .split('\n')
        .map((l) => /^\d+:\s+FLOCK\s+\S+\s+WRITE\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === ino)
        .map((m) => Number(m[1]))
    )
    for (let pid = process.pid; pid > 1; pid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1])) {
      if (holders.has(pid)) return true
    }
  } catch {
    // no lock file yet, or no /proc: nobody holds it for us
  }
  return false
}

const b64 = (s: string): string => Buffer.from(s).toString('base64')

export interface MiniWorld {
  dir: string
  cluster: CassandraCluster
  source: KubeCluster
  target: KubeCluster
  /** With thirdDc: a third region's cluster (context region-third), for three-region tests */
  third?: KubeCluster
  kubeconfig: string
  sourceDc: string
  targetDc: string
  /** env for the action steps: PATH with the real kubectl */
  env: Record<string, string>
  ddlPassword: string
  jmxPassword: string
  caPem: (which: 'a' | 'b') => { crt: string; key: string }
  addDcPods(kube: KubeCluster, dc: string): void
  /** namespace apigee + the credentials secret + pods for dc's nodes, as an installed region has */
  addRegion(kube: KubeCluster, dc: string): void
  /** Starts the nodes an overrides file describes; their pods go to `kube` (default: the target's cluster). */
  installRegion(overridesPath: string, count?: number, kube?: KubeCluster): Promise<void>
  /** AKS mode: the ARM/Entra/GitHub OIDC doubles the clusters trust */
  arm?: ArmDouble
  /** The inputs that point an action at a region's cluster: context + kubeconfig, or (AKS mode) topology + region + the Azure sign-in */
  kubeInputs(role: 'source' | 'target'): Record<string, string>
  close(): Promise<void>
}

const AKS_SUB = '11111111-1111-4111-8111-111111111111'

/** The RBAC of docs/rbac bound to the identity (its object ID), applied as a cluster admin would. */
export function applyDocumentedRbac(kube: KubeCluster, file: string, objectId: string): void {
  for (const doc of YAML.parseAllDocuments(readFileSync(join(ROOT, 'docs/rbac', file), 'utf8'))) {
    const o = doc.toJS() as { subjects?: { name: string }[] }
    for (const s of o.subjects ?? []) s.name = objectId
    kube.apply(o as never)
  }
}

function makeCa(dir: string, name: string): { crt: string; key: string } {
  mkdirSync(dir, { recursive: true })
  const key = join(dir, `${name}.key`)
  const crt = join(dir, `${name}.crt`)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-subj', `/CN=${name}`, '-days', '2'], { stdio: 'ignore' })
  return { crt: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') }
}

/** AKS mode: the docs/rbac files bound to the identity in each region (default: the seed/expand chain's). */
const CHAIN_RBAC = { source: ['expand-keyspaces.yaml', 'configure-seed-host-source.yaml'], target: ['configure-seed-host-target.yaml'] }

export async function startMiniWorld(o: { sourceDc: string; targetDc: string; sourceNodes: number; racks?: string[]; runDir?: string; aks?: boolean; rbac?: { source: string[]; target: string[] }; thirdDc?: string }): Promise<MiniWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'mr-h-world-'))
  // AKS mode: the clusters accept only Entra tokens (and enforce RBAC); the actions reach them through ARM.
  const arm = o.aks ? await startArmDouble({ tlsDir: join(dir, 'arm-tls'), tokenLifetimeSec: 60 }) : undefined
  const entra = arm ? { entra: { issuer: arm.entra.issuer, audience: AKS_SERVER_APP_ID, jwks: () => arm.entra.jwks() } } : {}
  const source = await startKubeCluster({ name: 'region-source', tlsDir: join(dir, 'tls'), namespaces: ['apigee', 'cert-manager'], ...entra })
  const target = await startKubeCluster({ name: 'region-target', tlsDir: join(dir, 'tls'), namespaces: ['cert-manager'], ...entra })
  const third = o.thirdDc ? await startKubeCluster({ name: 'region-third', tlsDir: join(dir, 'tls'), namespaces: ['cert-manager'], ...entra }) : undefined
  let topology = ''
  if (arm) {
    const objectId = arm.entra.apps.get(arm.clientId)!.objectId
    const rbac = o.rbac ?? CHAIN_RBAC
    for (const [k, files] of [[source, rbac.source], [target, rbac.target]] as const) {
      arm.addManagedCluster({ subscription: AKS_SUB, resourceGroup: 'rg-mr', name: k.name, server: k.url, ca: k.ca })
      for (const f of files) applyDocumentedRbac(k, f, objectId)
    }
    topology = join(dir, 'topology-aks.yml')
    writeFileSync(topology, `regions:\n  source:\n    aks: { subscription: ${AKS_SUB}, resourceGroup: rg-mr, name: region-source }\n  target:\n    aks: { subscription: ${AKS_SUB}, resourceGroup: rg-mr, name: region-target }\n`)
  }
  const kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), third ? [source, target, third] : [source, target], { currentContext: 'region-source' })
  const cas = { a: makeCa(join(dir, 'ca'), 'apigee-ca-a'), b: makeCa(join(dir, 'ca'), 'apigee-ca-b') }
  source.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: 'apigee-ca', namespace: 'cert-manager', labels: { 'cert-manager.io/certificate-name': 'apigee-ca' } },
    data: { 'tls.crt': b64(cas.a.crt), 'tls.key': b64(cas.a.key), 'ca.crt': b64(cas.a.crt) }
  })
  // TLS as Apigee runs it: a node's certificate is issued, when it starts, from its cluster's apigee-ca
  const caOf = (kube: KubeCluster): { crt: string; key: string } | undefined => {
    const d = (kube.get('secrets', 'cert-manager', 'apigee-ca') as { data?: Record<string, string> } | undefined)?.data
    return d?.['tls.crt'] && d['tls.key'] ? { crt: Buffer.from(d['tls.crt'], 'base64').toString(), key: Buffer.from(d['tls.key'], 'base64').toString() } : undefined
  }
  const cluster = new CassandraCluster({
    runDir: o.runDir ?? join(dir, 'run'),
    heapMb: Number(process.env.SANDBOX_CASSANDRA_HEAP_MB ?? 512),
    // The target's own apigee-ca when it has one (the chain test puts another CA there to see the
    // handshake fail). Tests that start the target's nodes directly skip configure-seed-host, so a
    // target without any apigee-ca gets what that step would have copied: the source's.
    caFor: (spec) => (spec.datacenter === o.sourceDc ? caOf(source) : ((spec.datacenter === o.thirdDc ? caOf(third!) : caOf(target)) ?? caOf(source)))
  })
  const racks = o.racks ?? ['ra-1']
  const specs = Array.from({ length: o.sourceNodes }, (_, i) => cluster.dcSpecs(o.sourceDc, 1, { first: i, rack: racks[i % racks.length], seeds: [cluster.dcSpecs(o.sourceDc, 1)[0].address] })[0])
  cluster.start(specs)
  const users = apigeeUsers(cluster.runDir, 'apigee')
  const addDcPods = (kube: KubeCluster, dc: string): void => {
    cluster
      .nodes()
      .filter((n) => n.datacenter === dc)
      .forEach((n, i) => {
        const env = cluster.nodeEnv(n.name)
        mkdirSync(env.HOME, { recursive: true })
        kube.addPod({
          namespace: 'apigee',
          name: `apigee-cassandra-default-${i}`,
          podIP: n.address,
          hostNetwork: true,
          labels: { app: 'apigee-cassandra' },
          containers: [{ name: 'apigee-cassandra' }],
          exec: localProcessExec({ extraEnv: { ...env, PATH: `${BIN}:${process.env.PATH}` } })
        })
      })
  }
  try {
    await cluster.waitUp(specs)
    await cluster.bootstrapAuth(o.sourceDc)
    await createApigeeRoles(cluster, specs[0].name, users)
  } catch (e) {
    await source.close()
    await target.close()
    await third?.close()
    await arm?.close()
    await cluster.destroy()
    throw e
  }
  const c = cluster.credentials()
  // What an installed region has: namespace apigee, the credentials secret, a pod per node of dc.
  const addRegion = (kube: KubeCluster, dc: string): void => {
    kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apigee' } })
    kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'apigee-datastore-default-creds', namespace: 'apigee' },
      data: credentialsSecretData(cluster, users)
    })
    addDcPods(kube, dc)
  }
  addRegion(source, o.sourceDc)
  return {
    dir,
    cluster,
    source,
    target,
    third,
    kubeconfig,
    sourceDc: o.sourceDc,
    targetDc: o.targetDc,
    env: { PATH: `${BIN}:${process.env.PATH}`, ...(arm ? arm.runnerEnv() : {}) },
    arm,
    kubeInputs: (role) =>
      arm ? { topology, [`${role}-region`]: role, ...arm.inputs() } : { [`${role}-kubeconfig`]: kubeconfig, [`${role}-context`]: `region-${role}` },
    ddlPassword: c.ddlPassword,
    jmxPassword: c.jmxPassword,
    caPem: (w) => cas[w],
    addDcPods,
    addRegion,
    async installRegion(overridesPath: string, count = 1, kube = target): Promise<void> {
      const ov = YAML.parse(readFileSync(overridesPath, 'utf8')) as { cassandra?: { multiRegionSeedHost?: string; datacenter?: string; rack?: string } }
      const cas = ov.cassandra ?? {}
      if (!cas.multiRegionSeedHost || !cas.datacenter) throw new Error(`install-region: ${overridesPath} has no multiRegionSeedHost/datacenter`)
      // certificates from the new cluster's apigee-ca: with another CA than the source's the
      // handshakes fail for real and waitUp throws Cassandra's own log line (JoinError)
      const specs = cluster.dcSpecs(cas.datacenter, count, { rack: cas.rack ?? 'ra-1', seeds: cas.multiRegionSeedHost.split(',') })
      cluster.start(specs)
      try {
        await cluster.waitUp(specs)
      } catch (e) {
        for (const s of specs) await cluster.stop(s.name, 5000)
        throw e
      }
      addDcPods(kube, cas.datacenter)
    },
    async close(): Promise<void> {
      await source.close()
      await target.close()
      await third?.close()
      await arm?.close()
      await cluster.destroy()
    }
  }
}

/** Builds the bundles when a source is newer than them (under a lock per action). */
/** Builds each named action's bundle when a source it bundles is newer (see helpers/bundle.ts). */
export function ensureBundles(names: string[]): void {
  for (const name of names) ensureBundle(name)
}

/** Inputs that point an action at both regions of a mini world (contexts region-source / region-target). */
export function regionInputs(w: Pick<MiniWorld, 'kubeconfig'>): Record<string, string> {
  return { 'source-context': 'region-source', 'source-kubeconfig': w.kubeconfig, 'target-context': 'region-target', 'target-kubeconfig': w.kubeconfig }
}

/** Lines of a step's output without the runner's ::add-mask:: commands (the runner consumes them). */
export function visible(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
}

/**
 * Where a secret shows in what the steps left for people to read: the log (without the runner's
 * ::add-mask:: commands), stderr, the job summary, the outputs and the JSON report. [] = nowhere.
 */
export function secretLeaks(steps: StepResult[], secrets: string[]): string[] {
  const leaks: string[] = []
  for (const [i, s] of steps.entries()) {
    const places: Record<string, string> = { log: s.stdout, stderr: s.stderr, summary: s.summary, outputs: JSON.stringify(s.outputs) }
    const report = s.outputs['report-path']
    if (report && existsSync(report)) places.report = readFileSync(report, 'utf8')
    for (const [where, text] of Object.entries(places)) if (secrets.some((x) => visible(text).includes(x))) leaks.push(`step ${i + 1}: ${where}`)
  }
  return leaks
}

/** Samples every process's argv on this machine every 100 ms until stop(); returns the argv lines holding a secret. */
export function argvScanner(secrets: string[]): { stop: () => { hits: string[]; samples: number; processes: number } } {
  const hits: string[] = []
  let samples = 0
  let processes = 0
  const scan = (): void => {
    samples++
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
        processes++
        if (secrets.some((s) => argv.includes(s))) hits.push(argv)
      } catch {
        /* gone */
      }
    }
  }
  const t = setInterval(scan, 100)
  return {
    stop: () => {
      clearInterval(t)
      scan()
      return { hits, samples, processes }
    }
  }
}
