// One writer at a time, through the bundle on real Cassandra: expand-keyspaces holds a Lease in
// the source cluster while it reads and alters the replication. Two runs adding two different
// DCs at once: one refuses naming the other run, and once that one ended the refused one runs and
// computes its change from a fresh read, so both DCs end in every keyspace (none silently
// dropped). A Lease held by a live foreign run is refused before any ALTER.
import { writeFileSync } from 'node:fs'
import { runAction, type StepResult } from '../../../sandbox/runner.ts'
import { microTime } from '../../../src/core/kube/lease.ts'
import { ensureBundles, haveSandbox, lockSandbox, startMiniWorld, type MiniWorld } from './harness.ts'

const d = haveSandbox() ? describe : describe.skip
if (!haveSandbox()) it('sandbox tools are installed (npm run setup)', () => expect(haveSandbox()).toBe(true))

const SRC = 'dc-41'
const NEW = ['dc-42', 'dc-43']
const runUrl = (id: string) => `https://github.com/example/platform/actions/runs/${id}/attempts/1`

d('expand-keyspaces takes the lock', () => {
  let release: () => void
  let w: MiniWorld
  beforeAll(async () => {
    ensureBundles(['expand-keyspaces'])
    release = await lockSandbox()
    w = await startMiniWorld({ sourceDc: SRC, targetDc: NEW[0], sourceNodes: 1 })
    // Two more datacenters of one node each join the ring (as installed regions do).
    const seeds = [w.cluster.dcSpecs(SRC, 1)[0].address]
    const specs = NEW.flatMap((dc) => w.cluster.dcSpecs(dc, 1, { seeds }))
    w.cluster.start(specs)
    await w.cluster.waitUp(specs)
    // As the vendor's install leaves it (seed 000): system_auth already lists every installed DC
    // (Cassandra 4.1+ requires every DC with live nodes there); an application keyspace only dc-41.
    await w.cluster.cql(`${SRC}-0`, [
      `ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1, '${NEW[0]}': 1, '${NEW[1]}': 1}`,
      `CREATE KEYSPACE IF NOT EXISTS kvm_org_hybrid WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1}`
    ], { as: 'superuser' })
  }, 3_000_000) // other suites may hold /tmp/sandbox.lock for a while
  afterAll(async () => {
    await w?.close()
    release?.()
  }, 120_000)

  const expand = async (dc: string, runId: string): Promise<StepResult> => {
    const r = await runAction('expand-keyspaces', { 'source-kubeconfig': w.kubeconfig, 'source-context': 'region-source', 'source-datacenter': SRC, 'target-datacenter': dc, 'replication-factor': '1' }, { env: { ...w.env, GITHUB_RUN_ID: runId, GITHUB_RUN_ATTEMPT: '1', GITHUB_SERVER_URL: 'https://github.com' }, cwd: w.dir })
    if (process.env.MR_DEBUG) writeFileSync(`/tmp/mr-lock-step-${runId}.log`, r.stdout + r.stderr)
    return r
  }
  const replication = async (): Promise<Record<string, Record<string, string>>> => {
    const rows = await w.cluster.selectJson<{ keyspace_name: string; replication: Record<string, string> }>(`${SRC}-0`, 'SELECT JSON keyspace_name, replication FROM system_schema.keyspaces')
    return Object.fromEntries(rows.map((r) => [r.keyspace_name, r.replication]))
  }

  it('refuses while a live foreign run holds the Lease, naming it and when it expires; nothing altered', async () => {
    w.source.apply({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'mr-actions-lock', namespace: 'apigee' }, spec: { holderIdentity: runUrl('77'), leaseDurationSeconds: 600, renewTime: microTime(Date.now()) } } as never)
    const before = await replication()
    const r = await expand(NEW[0], '100')
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`::error::Lease apigee/mr-actions-lock on .* is held by ${runUrl('77').replace(/[/.]/g, '\\$&')} \\(it expires at 20\\d\\d-\\d\\d-\\d\\dT[\\d:.]+Z, in \\d+s`))
    expect(r.stdout).not.toMatch(/ALTER KEYSPACE/)
    expect(await replication()).toEqual(before)
    w.source.delete('leases', 'apigee', 'mr-actions-lock')
  }, 300_000)

  it('two runs adding two DCs at once: one refuses naming the other, re-run after it ended, both DCs in every keyspace', async () => {
    const [a, b] = await Promise.all([expand(NEW[0], '201'), expand(NEW[1], '202')])
    const byRun = { '201': a, '202': b }
    const errors = (r: StepResult) => r.stdout.split('\n').filter((l) => l.startsWith('::error::')).join('\n')
    expect([a, b].map(errors).filter((e) => e && !e.includes('is held by'))).toEqual([])
    const refused = Object.entries(byRun).filter(([, r]) => r.code !== 0)
    const done = Object.entries(byRun).filter(([, r]) => r.code === 0)
    // Both started within the same second: the second's read came while the first held the Lease.
    expect(done).toHaveLength(1)
    expect(refused).toHaveLength(1)
    expect(refused[0][1].stdout).toContain(`is held by ${runUrl(done[0][0])}`)
    expect(done[0][1].stdout).toMatch(/took Lease apigee\/mr-actions-lock/)
    expect(done[0][1].stdout).toMatch(/released Lease apigee\/mr-actions-lock/)
    // The first ended and released: the refused run now runs, from a fresh read.
    const again = await expand(refused[0][0] === '201' ? NEW[0] : NEW[1], refused[0][0])
    expect(again.code).toBe(0)
    const rep = await replication()
    for (const ks of ['kvm_org_hybrid', 'system_distributed', 'system_traces']) {
      expect(rep[ks]).toMatchObject({ [SRC]: expect.any(String), [NEW[0]]: '1', [NEW[1]]: '1' })
    }
    expect(w.source.get('leases', 'apigee', 'mr-actions-lock')).toMatchObject({ spec: { leaseTransitions: 1 } })
    expect((w.source.get('leases', 'apigee', 'mr-actions-lock') as unknown as { spec: { holderIdentity?: string } }).spec.holderIdentity).toBeUndefined()
  }, 600_000)
})
