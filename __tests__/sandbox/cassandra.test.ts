// Real Cassandra (CASSANDRA_VERSION; CI runs this file on 4.1 and 5.0) in the sandbox: two nodes in dc-1, password auth, authenticated JMX, the
// real nodetool and cqlsh, seed data with known row counts. Needs `npm run setup` (jars, cqlsh).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseStatus } from '../../src/core/cassandra/status.ts'
import { CassandraCluster, parseJsonLines } from '../../sandbox/cassandra/cluster.ts'
import { NATIVE_PORT } from '../../sandbox/cassandra/config.ts'
import { portOpen } from '../../sandbox/cassandra/proc.ts'
import { rowCounts, seedData, seedKeyspaces } from '../../sandbox/cassandra/seed.ts'

const runDir = mkdtempSync(join(tmpdir(), 'mr-cassandra-test-'))
// addresses 127.10.1.x: this cluster can run beside a sandbox world (127.0.x.x)
const cluster = new CassandraCluster({ runDir, addressBase: 10 })
const specs = cluster.dcSpecs('dc-1', 2)
const ROWS = 40
let pids: number[] = []

beforeAll(async () => {
  const t0 = Date.now()
  cluster.start(specs)
  pids = specs.map((s) => cluster.pid(s.name)!).filter(Boolean)
  await cluster.waitUp(specs)
  const upMs = Date.now() - t0
  await cluster.bootstrapAuth('dc-1')
  await seedData(cluster, { rowsPerTable: ROWS })
  const rss = Object.values(cluster.rss()).reduce((a, b) => a + b, 0)
  console.log(`cassandra test cluster: 2 nodes UN in ${(upMs / 1000).toFixed(1)}s, auth+seed done at ${((Date.now() - t0) / 1000).toFixed(1)}s, RSS ${(rss / 2 ** 20).toFixed(0)} MiB`)
}, 360000)

afterAll(async () => {
  await cluster.destroy()
  rmSync(runDir, { recursive: true, force: true })
}, 60000)

test('nodetool status (real nodetool over authenticated JMX) shows both dc-1 nodes UN', async () => {
  const r = await cluster.nodetool('dc-1-0', ['status'])
  const ring = parseStatus(r.stdout)
  expect(ring.map((n) => `${n.datacenter} ${n.address} ${n.status}${n.state} ${n.rack}`).sort()).toEqual(['dc-1 127.10.1.1 UN ra-1', 'dc-1 127.10.1.2 UN ra-1'])
})

test('JMX rejects a wrong password and a missing one', async () => {
  const bad = join(runDir, 'bad.pwf')
  writeFileSync(bad, `${cluster.credentials().jmxUser} not-the-password\n`, { mode: 0o600 })
  const env = cluster.nodeEnv('dc-1-0')
  const wrong = await cluster.nodetool('dc-1-0', ['-u', cluster.credentials().jmxUser, '-pwf', bad, 'status'], { allowFailure: true, credentials: false })
  expect(wrong.code).not.toBe(0)
  expect(wrong.stdout + wrong.stderr).toMatch(/Invalid username or password/)
  const none = await cluster.nodetool('dc-1-0', ['status'], { allowFailure: true, credentials: false })
  expect(none.code).not.toBe(0)
  expect(none.stdout + none.stderr).toMatch(/Credentials required|Authentication failed|SecurityException/i)
  expect(env.NODETOOL_PORT).toBe(String(specs[0].jmxPort))
})

test('cqlsh SELECT JSON as the DDL user shows the seed keyspaces on dc-1; the default password is refused', async () => {
  const rows = await cluster.selectJson<{ keyspace_name: string; replication: Record<string, string> }>(
    'dc-1-1',
    'SELECT JSON keyspace_name, replication FROM system_schema.keyspaces'
  )
  const byName = new Map(rows.map((r) => [r.keyspace_name, r.replication]))
  for (const ks of [...seedKeyspaces('example'), 'system_auth', 'system_distributed', 'system_traces']) {
    expect(byName.get(ks)).toEqual({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'dc-1': '2' })
  }
  expect(byName.get('system')).toEqual({ class: 'org.apache.cassandra.locator.LocalStrategy' })
  const dflt = await cluster.cql('dc-1-0', ['SELECT role FROM system_auth.roles'], { as: 'default', allowFailure: true })
  expect(dflt.code).not.toBe(0)
  expect(dflt.stderr).toMatch(/Bad credentials|AuthenticationFailed/i)
})

test('seed tables hold the configured number of rows, read from either node', async () => {
  for (const node of ['dc-1-0', 'dc-1-1']) {
    const counts = await rowCounts(cluster, node, 'example', 'QUORUM')
    expect(Object.keys(counts)).toHaveLength(6)
    for (const n of Object.values(counts)) expect(n).toBe(ROWS)
  }
})

test('secrets are 0600 files, never in the node command lines', () => {
  const c = cluster.credentials()
  for (const f of ['credentials.json', 'jmx.pwf', 'ddl.credentials']) {
    expect(statSync(join(cluster.secretsDir, f)).mode & 0o777).toBe(0o600)
  }
  expect(statSync(cluster.paths('dc-1-0').jmxPasswordFile).mode & 0o777).toBe(0o600)
  for (const pid of pids) {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
    expect(cmdline).toContain('-Dsandbox.node=')
    for (const secret of [c.jmxPassword, c.ddlPassword, c.superuserPassword]) expect(cmdline).not.toContain(secret)
  }
})

test('stop leaves no process and no port behind', async () => {
  await cluster.stopAll(15000)
  for (const pid of pids) expect(gone(pid)).toBe(true)
  for (const s of specs) expect(await portOpen(s.address, NATIVE_PORT, 300)).toBe(false)
  for (const s of specs) expect(cluster.running(s.name)).toBe(false)
}, 60000)


/** No such process, or only a zombie waiting for jest to reap it. */
function gone(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return true
  try {
    return /^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}
