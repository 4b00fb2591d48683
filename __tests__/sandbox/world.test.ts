// The sandbox world through the real kubectl: Cassandra pods with their IPs, nodetool and cqlsh
// through `kubectl exec` (credentials on stdin, never argv), secrets, scaling a deployment, logs;
// the new region's install from an overrides file (CA mismatch and hostNetwork off refused, then
// all nodes UN from both regions, then a re-apply without the seed host).
// Reuses a world already running in the default run dir (`npm run sandbox -- up`), else starts one.
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import YAML from 'yaml'
import { parseStatus, type RingNode } from '../../src/core/cassandra/status.ts'
import { CACHE_DIR } from '../../sandbox/cassandra/cluster.ts'
import { CassandraCluster } from '../../sandbox/cassandra/cluster.ts'
import { NATIVE_PORT } from '../../sandbox/cassandra/config.ts'
import { exited, portOpen } from '../../sandbox/cassandra/proc.ts'
import { cleanupStale, connectWorld, down, up, type WorldClient } from '../../sandbox/world-client.ts'
import { readWorldState, type RegionState } from '../../sandbox/world-state.ts'

const KUBECTL = join(CACHE_DIR, 'bin', 'kubectl')
let world: WorldClient
let owned = false
let runDir = ''
let source: RegionState
let target: RegionState
const tmp = mkdtempSync(join(tmpdir(), 'mr-world-test-'))

interface Out {
  code: number
  stdout: string
  stderr: string
}

function kubectl(context: string, args: string[], stdin?: string): Promise<Out> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, ['--kubeconfig', world.state.kubeconfig, '--context', context, ...args], { timeout: 180000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) })
    })
    child.stdin?.end(stdin ?? '')
  })
}

async function secretData(context: string, namespace: string, name: string): Promise<Record<string, string>> {
  const r = await kubectl(context, ['-n', namespace, 'get', 'secret', name, '-o', 'json'])
  expect(r.stderr).toBe('')
  const data = (JSON.parse(r.stdout) as { data: Record<string, string> }).data
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}

/** `nodetool ARGS` in a pod, JMX credentials read from the secret and passed on stdin. */
async function podNodetool(context: string, pod: string, args: string[]): Promise<Out> {
  const creds = await secretData(context, 'apigee', 'apigee-datastore-default-creds')
  const script = 'set -e; umask 077; d=$(mktemp -d); trap \'rm -rf "$d"\' EXIT; IFS= read -r U; IFS= read -r P; printf "%s %s\\n" "$U" "$P" > "$d/p"; nodetool -u "$U" -pwf "$d/p" "$@"'
  return kubectl(context, ['-n', 'apigee', 'exec', '-i', pod, '--', 'sh', '-c', script, 'sh', ...args], `${creds['jmx.user']}\n${creds['jmx.password']}\n`)
}

async function podCqlsh(context: string, pod: string, statements: string, who: 'ddl' | 'dml' | 'admin' | 'default' = 'ddl'): Promise<Out> {
  const creds = await secretData(context, 'apigee', 'apigee-datastore-default-creds')
  const script =
    'set -e; umask 077; d=$(mktemp -d); trap \'rm -rf "$d"\' EXIT; IFS= read -r U; IFS= read -r P; ' +
    'printf "[plain_text_auth]\\nusername = %s\\npassword = %s\\n" "$U" "$P" > "$d/c"; cat > "$d/in.cql"; cqlsh --credentials "$d/c" -f "$d/in.cql"'
  return kubectl(context, ['-n', 'apigee', 'exec', '-i', pod, '--', 'sh', '-c', script], `${who === 'default' ? 'cassandra' : creds[`${who}.user`]}\n${creds[`${who}.password`]}\n${statements}\n`)
}

function ringSummary(ring: RingNode[]): string[] {
  return ring.map((n) => `${n.datacenter} ${n.address} ${n.status}${n.state}`).sort()
}

beforeAll(async () => {
  const running = connectWorld()
  if (running) {
    world = running
  } else {
    runDir = join(tmp, 'run')
    // its own world, on 127.20.x.x so that it cannot clash with a world started elsewhere
    const r = await up({ runDir, rowsPerTable: 30, addressBase: 20, log: () => {} })
    world = r.client
    owned = true
    console.log(`world up in ${(r.ms / 1000).toFixed(1)}s; timings ${JSON.stringify(world.state.timings)}; peak RSS ${world.state.peakRssMiB} MiB`)
  }
  source = world.region('source')
  target = world.region('target')
}, 480000)

afterAll(async () => {
  if (owned) await down(runDir)
  rmSync(tmp, { recursive: true, force: true })
}, 120000)

test('kubectl lists the Cassandra pods with their IPs, running and ready', async () => {
  const r = await kubectl(source.context, ['-n', 'apigee', 'get', 'pods', '-l', 'app=apigee-cassandra', '-o', 'json'])
  expect(r.code).toBe(0)
  const pods = (JSON.parse(r.stdout) as { items: { metadata: { name: string }; status: { podIP: string; hostIP: string; phase: string; conditions: { type: string; status: string }[] } }[] }).items
  expect(pods.map((p) => p.metadata.name).sort()).toEqual(['apigee-cassandra-default-0', 'apigee-cassandra-default-1'])
  for (const p of pods) {
    const node = source.pods.find((x) => x.name === p.metadata.name)!
    expect(p.status.podIP).toBe(node.address)
    expect(p.status.hostIP).toBe(node.address)
    expect(p.status.phase).toBe('Running')
    expect(p.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True')
  }
  const wide = await kubectl(source.context, ['get', 'pods', '-o', 'wide', '-n', 'apigee'])
  expect(wide.stdout).toMatch(new RegExp(`apigee-cassandra-default-0\\s+1/1\\s+Running.*${source.pods[0].address.replace(/\./g, '\\.')}`))
})

test('kubectl exec runs the real nodetool against that pod\'s node; without credentials JMX refuses', async () => {
  const r = await podNodetool(source.context, 'apigee-cassandra-default-1', ['status'])
  expect(r.stderr).toBe('')
  const dc1 = parseStatus(r.stdout).filter((n) => n.datacenter === source.datacenter)
  expect(ringSummary(dc1)).toEqual(source.pods.map((p) => `dc-1 ${p.address} UN`).sort())
  const info = await podNodetool(source.context, 'apigee-cassandra-default-1', ['info'])
  expect(info.stdout).toMatch(new RegExp(`Data Center\\s*: ${source.datacenter}`))
  // the pod's nodetool talks to its own node: `info` there shows that node's ID, listed in status at its IP
  const hostId = /^ID\s*:\s*(\S+)/m.exec(info.stdout)?.[1]
  expect(parseStatus(r.stdout).find((n) => n.hostId === hostId)?.address).toBe(source.pods[1].address)
  const anon = await kubectl(source.context, ['-n', 'apigee', 'exec', 'apigee-cassandra-default-0', '--', 'nodetool', 'status'])
  expect(anon.code).not.toBe(0)
  expect(anon.stdout + anon.stderr).toMatch(/Credentials required|Authentication failed|SecurityException/i)
}, 120000)

test('kubectl exec runs cqlsh SELECT JSON as the DDL user', async () => {
  const r = await podCqlsh(source.context, 'apigee-cassandra-default-0', 'SELECT JSON keyspace_name, replication FROM system_schema.keyspaces;')
  expect(r.code).toBe(0)
  const rows = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { keyspace_name: string; replication: Record<string, string> })
  const names = rows.map((x) => x.keyspace_name)
  for (const ks of ['cache_example_hybrid', 'kms_example_hybrid', 'kvm_example_hybrid', 'quota_example_hybrid', 'perses', 'system_auth']) expect(names).toContain(ks)
  expect(rows.find((x) => x.keyspace_name === 'perses')?.replication['dc-1']).toBe('2')
}, 60000)

test('the secrets are there: datastore credentials in the vendor 11-key layout that work, and apigee-ca', async () => {
  const creds = await secretData(source.context, 'apigee', 'apigee-datastore-default-creds')
  expect(Object.keys(creds).sort()).toEqual([
    'admin.password', 'admin.user', 'ddl.password', 'ddl.user', 'default.password', 'dml.password', 'dml.user',
    'jmx.password', 'jmx.user', 'jolokia.password', 'jolokia.user'
  ])
  expect([creds['admin.user'], creds['ddl.user'], creds['dml.user'], creds['jmx.user'], creds['jolokia.user']]).toEqual(['admin_user', 'ddl_user', 'dml_user', 'jmxuser', 'apigee'])
  for (const k of Object.keys(creds).filter((k) => k.endsWith('password'))) {
    expect(creds[k]).not.toBe('cassandra')
    expect(creds[k].length).toBeGreaterThanOrEqual(16)
  }
  // every Cassandra user of the layout logs in; DML reads and writes data but changes no schema
  for (const who of ['default', 'admin', 'dml'] as const) {
    const r = await podCqlsh(source.context, 'apigee-cassandra-default-0', 'SELECT count(*) FROM system_schema.keyspaces;', who)
    expect([who, r.code, r.stderr]).toEqual([who, 0, ''])
  }
  const ddl = await podCqlsh(source.context, 'apigee-cassandra-default-0', "CREATE KEYSPACE dml_may_not WITH replication = {'class': 'NetworkTopologyStrategy', 'dc-1': 1};", 'dml')
  expect(ddl.stdout + ddl.stderr).toMatch(/Unauthorized|has no CREATE permission/)
  const ca = await secretData(source.context, 'cert-manager', 'apigee-ca')
  expect(ca['tls.crt']).toMatch(/BEGIN CERTIFICATE/)
  expect(ca['tls.key']).toMatch(/PRIVATE KEY/)
})

test('kubectl scale changes a deployment\'s replicas; kubectl logs shows the node\'s log', async () => {
  const scale = async (n: number): Promise<void> => {
    const r = await kubectl(source.context, ['-n', 'apigee', 'scale', 'deployment/apigee-runtime', `--replicas=${n}`])
    expect(r.stdout).toMatch(/scaled/)
    for (let i = 0; i < 50; i++) {
      const d = JSON.parse((await kubectl(source.context, ['-n', 'apigee', 'get', 'deployment', 'apigee-runtime', '-o', 'json'])).stdout)
      if (d.spec.replicas === n && (d.status.readyReplicas ?? 0) === n) return
      await new Promise((res) => setTimeout(res, 200))
    }
    throw new Error(`deployment did not reach ${n} replicas`)
  }
  await scale(0)
  await scale(2)
  const logs = await kubectl(source.context, ['-n', 'apigee', 'logs', 'apigee-cassandra-default-0'])
  expect(logs.stdout).toMatch(/Startup complete/)
  expect(logs.stdout).toContain(`Starting listening for CQL clients on /${source.pods[0].address}:9042`)
}, 60000)

describe('installing the hybrid runtime in the new region', () => {
  const overrides = (): string => join(tmp, `overrides-${target.name}.yaml`)
  function writeOverrides(patch: Record<string, unknown>, drop: string[] = []): string {
    // edit the file of the previous step (as configure-seed-host edits the region's file in place)
    const base = existsSync(overrides()) ? overrides() : target.overrides
    const doc = YAML.parse(readFileSync(base, 'utf8')) as { cassandra: Record<string, unknown> }
    doc.cassandra = { ...doc.cassandra, ...patch }
    for (const k of drop) delete doc.cassandra[k]
    writeFileSync(overrides(), YAML.stringify(doc))
    return overrides()
  }
  const seed = (): string => source.pods[0].address

  test("is refused with hostNetwork off; with another CA Cassandra's own TLS handshake fails and the node never joins", async () => {
    if (!target.installed) {
      const file = writeOverrides({ hostNetwork: false, multiRegionSeedHost: seed(), datacenter: 'dc-2', rack: 'ra-1', replicaCount: 1 })
      await expect(world.installRegion(target.name, file)).rejects.toThrow(/hostNetwork/)
    }
    // the new cluster's own apigee-ca (or a foreign one, if an earlier run already copied it)
    const srcCa = await secretData(source.context, 'cert-manager', 'apigee-ca')
    const tgtCa = await secretData(target.context, 'cert-manager', 'apigee-ca')
    const restore = tgtCa['tls.crt'] === srcCa['tls.crt'] ? tgtCa : undefined
    if (restore) {
      // a CA of its own, as the new cluster's cert-manager would have made
      const dir = join(tmp, 'foreign-ca')
      mkdirSync(dir, { recursive: true })
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-subj', '/CN=apigee-ca-foreign', '-days', '1'], { stdio: 'ignore' })
      const foreign = readFileSync(join(dir, 'c'), 'utf8')
      await applySecret(target.context, { 'tls.crt': foreign, 'ca.crt': foreign, 'tls.key': readFileSync(join(dir, 'k'), 'utf8') })
    }
    const file = writeOverrides({ hostNetwork: true, multiRegionSeedHost: seed(), datacenter: 'dc-2', rack: 'ra-1', replicaCount: 1 })
    // no scripted message: the line is the new node's own log (internode TLS, certificates from each cluster's apigee-ca)
    await expect(world.installRegion(target.name, file)).rejects.toThrow(/apigee-cassandra-default-0 in dc-2 never joins the ring: .*(SSLHandshakeException|PKIX path (building|validation) failed|certificate_unknown)/)
    if (restore) await applySecret(target.context, restore)
    if (!target.installed) {
      const pods = await kubectl(target.context, ['-n', 'apigee', 'get', 'pods', '-o', 'json'])
      const items = (JSON.parse(pods.stdout) as { items: { status: { conditions: { type: string; status: string }[] } }[] }).items
      for (const p of items) expect(p.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('False')
      const log = await kubectl(target.context, ['-n', 'apigee', 'logs', 'apigee-cassandra-default-0'])
      expect(log.stdout).toMatch(/javax\.net\.ssl\.SSLHandshakeException/)
      // and the source ring never saw it
      const st = await podNodetool(source.context, 'apigee-cassandra-default-0', ['status'])
      expect(st.stdout).not.toMatch(/Datacenter: dc-2/)
    }
  }, 420000)

  test('after copying apigee-ca, installs dc-2 from the overrides: all nodes UN seen from both regions', async () => {
    // the procedure's copy: export from the original cluster, strip server fields, apply to the new one
    const exported = JSON.parse((await kubectl(source.context, ['-n', 'cert-manager', 'get', 'secret', 'apigee-ca', '-o', 'json'])).stdout)
    for (const k of ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields']) delete exported.metadata[k]
    const applied = await kubectl(target.context, ['apply', '-f', '-'], JSON.stringify(exported))
    expect(applied.code).toBe(0)
    const file = writeOverrides({ hostNetwork: true, multiRegionSeedHost: seed(), datacenter: 'dc-2', rack: 'ra-1', replicaCount: 1 })
    const r = await world.installRegion(target.name, file)
    target = world.region('target')
    expect(r.installed).toBe(true)
    expect(target.pods[0].address).toMatch(/^127\.\d+\.2\.1$/)
    const want = [...source.pods.map((p) => `dc-1 ${p.address} UN`), ...target.pods.map((p) => `dc-2 ${p.address} UN`)].sort()
    for (const [ctx, pod] of [
      [target.context, 'apigee-cassandra-default-0'],
      [source.context, 'apigee-cassandra-default-0']
    ]) {
      const st = await podNodetool(ctx, pod, ['status'])
      expect(ringSummary(parseStatus(st.stdout))).toEqual(want)
    }
    const pods = await kubectl(target.context, ['-n', 'apigee', 'get', 'pods', '-o', 'wide'])
    expect(pods.stdout).toMatch(/apigee-cassandra-default-0\s+1\/1\s+Running/)
  }, 360000)

  test('re-applying without the seed host works and keeps the nodes up', async () => {
    const file = writeOverrides({}, ['multiRegionSeedHost'])
    const r = await world.installRegion(target.name, file)
    expect(r.installed).toBe(true)
    const st = await podNodetool(target.context, 'apigee-cassandra-default-0', ['status'])
    expect(parseStatus(st.stdout).filter((n) => n.datacenter === 'dc-2').every((n) => n.status === 'U' && n.state === 'N')).toBe(true)
    const yaml = readFileSync(join(world.state.runDir, 'nodes', 'dc-2-0', 'conf', 'cassandra.yaml'), 'utf8')
    expect(yaml).not.toContain(`${seed()}:7000`)
  }, 120000)
})

// Only for a world this file started (a shared one is left to whoever started it).
const sharedWorld = connectWorld() !== undefined
;(sharedWorld ? test.skip : test)('a crashed world (daemon killed) is cleaned up: no process and no port left', async () => {
  const s = readWorldState(runDir)!
  const nodes = new CassandraCluster({ runDir, addressBase: s.addressBase }).nodes()
  const pids = nodes.map((n) => new CassandraCluster({ runDir, addressBase: s.addressBase }).pid(n.name)).filter((p): p is number => p !== undefined)
  expect(pids.length).toBeGreaterThanOrEqual(3)
  process.kill(s.pid, 'SIGKILL')
  for (let i = 0; i < 50 && connectWorld(runDir); i++) await new Promise((r) => setTimeout(r, 100))
  expect(connectWorld(runDir)).toBeUndefined()
  // what `up` does first when it finds a dead world
  const done = await cleanupStale(runDir)
  expect(done.filter((d) => d.startsWith('stopped Cassandra'))).toHaveLength(pids.length)
  for (const pid of pids) expect(exited(pid)).toBe(true)
  for (const n of nodes) expect(await portOpen(n.address, NATIVE_PORT, 300)).toBe(false)
  for (const r of s.regions) expect(await portOpen('127.0.0.1', Number(new URL(r.server).port), 300)).toBe(false)
  expect(await portOpen('127.0.0.1', Number(new URL(s.controlUrl).port), 300)).toBe(false)
}, 60000)


async function applySecret(context: string, data: Record<string, string>): Promise<void> {
  const obj = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: 'apigee-ca', namespace: 'cert-manager' },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
  }
  const r = await kubectl(context, ['apply', '-f', '-'], JSON.stringify(obj))
  expect(r.code).toBe(0)
}
