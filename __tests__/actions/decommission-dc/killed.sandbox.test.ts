// decommission-dc killed mid-decommission, then run again as a new run, on real Cassandra through
// the bundle. dc-45 (1 node, stays) and dc-46 (2 nodes, retired) behind two Kubernetes API doubles
// the real kubectl talks to as AKS clusters with Entra ID (kubeconfig through ARM, the real
// kubelogin, tokens of a minute), the identity holding exactly the Roles of docs/rbac
// (expand-keyspaces.yaml where the Lease lives, decommission-dc.yaml in the retired region); `app` replicated to both DCs, its rows written, then taken away from
// dc-46 (replicate-away done). The action is SIGKILLed with its process tree, as a cancelled
// runner's job is, while its first `nodetool decommission` runs: the world says when (the leaving
// node's own log, then the survivors' ring), not the action's output. The new run is refused while
// the killed run's Lease lives, then finishes: the ring has no node of dc-46, and every row reads
// at LOCAL_ONE in dc-45 as before. A third run changes nothing.
// Run under the sandbox lock (taken by the test): the Cassandra addresses are fixed.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { runAction, startStep, type StepResult } from '../../../sandbox/runner.ts'
import { ensureBundles, haveSandbox, lockSandbox, startMiniWorld, visible, type MiniWorld } from '../expand-keyspaces/harness.ts'

const d = haveSandbox() ? describe : describe.skip
if (!haveSandbox()) it('sandbox tools are installed (npm run setup)', () => expect(haveSandbox()).toBe(true))

// DC numbers pick the loopback block (127.0.<n>.x): unique ones avoid other suites' nodes
const SRC = 'dc-45'
const TGT = 'dc-46'
const ROWS = 300
const runUrl = (id: string): string => `https://github.com/example/platform/actions/runs/${id}/attempts/1`
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Every descendant of pid, deepest last (from /proc's parent links). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>()
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      parent.set(Number(p), Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]))
    } catch {
      /* gone */
    }
  }
  const out: number[] = []
  const walk = (p: number): void => {
    for (const [c, pp] of parent) if (pp === p) (out.push(c), walk(c))
  }
  walk(pid)
  return out
}

d('decommission-dc killed mid-decommission, then a new run', () => {
  let w: MiniWorld
  let release: () => void
  const src = `${SRC}-0`

  const inputs = (): Record<string, string> => ({ 'source-datacenter': SRC, 'target-datacenter': TGT, ...w.kubeInputs('source'), ...w.kubeInputs('target'), 'poll-interval': '1s', 'lease-duration': '15s', timeout: '10m' })
  const runEnv = (id: string): Record<string, string> => ({ ...w.env, GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'example/platform', GITHUB_RUN_ID: id, GITHUB_RUN_ATTEMPT: '1' })
  /** The survivors' ring as `nodetool status` prints it: address -> state (UN, UL, ...). */
  const ring = async (): Promise<Record<string, string>> => {
    const out = (await w.cluster.nodetool(src, ['status'])).stdout
    return Object.fromEntries([...out.matchAll(/^([UD][NLJM])\s+(\S+)\s/gm)].map((m) => [m[2], m[1]]))
  }
  const count = async (): Promise<number> => Number((await w.cluster.selectJson<{ count: number }>(src, 'SELECT JSON count(*) FROM app.t', { consistency: 'LOCAL_ONE' }))[0].count)
  const sample = async (): Promise<string[]> => (await w.cluster.selectJson<{ id: number; v: string }>(src, 'SELECT JSON id, v FROM app.t WHERE id IN (0, 7, 42, 150, 299)', { consistency: 'LOCAL_ONE' })).map((r) => `${r.id}=${r.v}`).sort()

  beforeAll(async () => {
    ensureBundles(['decommission-dc'])
    release = await lockSandbox()
    w = await startMiniWorld({ sourceDc: SRC, targetDc: TGT, sourceNodes: 1, aks: true, rbac: { source: ['expand-keyspaces.yaml'], target: ['decommission-dc.yaml'] } })
    const seeds = [w.cluster.dcSpecs(SRC, 1)[0].address]
    const specs = [0, 1].map((i) => w.cluster.dcSpecs(TGT, 1, { first: i, seeds })[0])
    w.cluster.start(specs)
    await w.cluster.waitUp(specs)
    // rows written while app replicated to both DCs, then replicate-away: app in dc-45 only;
    // system_auth keeps dc-46 until its nodes are gone (Cassandra 4.1+)
    await w.cluster.cql(src, [
      `ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1, '${TGT}': 2}`,
      `CREATE KEYSPACE app WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1, '${TGT}': 2}`,
      'CREATE TABLE app.t (id int PRIMARY KEY, v text)'
    ], { as: 'superuser' })
    for (let i = 0; i < ROWS; i += 100) await w.cluster.cql(src, Array.from({ length: 100 }, (_, k) => `INSERT INTO app.t (id, v) VALUES (${i + k}, 'row ${i + k}')`))
    await w.cluster.cql(src, `ALTER KEYSPACE app WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1}`, { as: 'superuser' })
    w.addRegion(w.target, TGT)
  }, 3_600_000) // includes waiting for the sandbox lock

  afterAll(async () => {
    await w?.close()
    release?.()
  }, 120_000)

  it('killed (SIGKILL) during the first nodetool decommission, a new run finishes: no node of dc-46 in the ring, every row still read at LOCAL_ONE in dc-45', async () => {
    const before = { count: await count(), sample: await sample() }
    expect(before.count).toBe(ROWS)
    const nodes = w.cluster.nodes().filter((n) => n.datacenter === TGT)
    const [first, second] = [nodes[1], nodes[0]] // highest ordinal first: apigee-cassandra-default-1
    expect(await ring()).toMatchObject({ [first.address]: 'UN', [second.address]: 'UN' })

    // run 501: watch the leaving node's own log; kill the step and its children once it is leaving
    const log = w.cluster.paths(first.name).log
    const from = statSync(log).size
    const logSince = (): string => readFileSync(log, 'utf8').slice(from)
    const step = startStep('decommission-dc', 'main', inputs(), { env: runEnv('501') })
    const until = Date.now() + 300_000
    while (!/LEAVING: /.test(logSince()) && step.child.exitCode === null && Date.now() < until) await sleep(100)
    expect(logSince()).toMatch(/LEAVING: /)
    const tree = descendants(step.child.pid!)
    step.child.kill('SIGKILL')
    for (const pid of tree) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* already gone */
      }
    }
    const killed: StepResult = await step.done
    expect(killed.signal).toBe('SIGKILL')
    expect(logSince()).not.toMatch(/DECOMMISSIONED/) // it was killed while the node was leaving
    // the survivors list it leaving, or it has left since (the decommission goes on inside Cassandra);
    // they learn LEAVING through gossip, a round or more after the node's own log says it
    let state = (await ring())[first.address]
    for (const end = Date.now() + 30_000; state === 'UN' && Date.now() < end; state = (await ring())[first.address]) await sleep(500)
    expect([undefined, 'UL']).toContain(state)

    // a new run while the killed run's Lease lives: refused, naming that run; nothing changed
    const early = await runAction('decommission-dc', inputs(), { env: runEnv('502') })
    expect(early.code).toBe(1)
    expect(visible(early.stdout)).toContain(`is held by ${runUrl('501')}`)
    expect((await ring())[second.address]).toBe('UN')
    // the Lease expires 15 s after the killed run's last renewal
    const lease = w.source.get('leases', 'apigee', 'mr-actions-lock') as unknown as { spec: { renewTime: string } }
    await sleep(Math.max(0, Date.parse(lease.spec.renewTime) + 15_500 - Date.now()))

    const r = await runAction('decommission-dc', inputs(), { env: runEnv('502') })
    const out = visible(r.stdout + r.stderr)
    expect({ code: r.code, tail: r.code === 0 ? '' : out.slice(-3000) }).toEqual({ code: 0, tail: '' })
    expect(out).toMatch(/took Lease apigee\/mr-actions-lock .* \(the previous holder .*runs\/501\/attempts\/1 let it expire\)/)
    // the killed decommission is not started again: the node either left meanwhile or is waited for
    expect(out).not.toMatch(new RegExp(`decommission ${first.address.replace(/\./g, '\\.')} \\(apigee-cassandra-default-1\\)`))
    expect(Number(r.outputs.removed)).toBeGreaterThanOrEqual(1)
    // the addresses of both retired nodes, the one that left before this run from gossip
    expect(r.outputs.addresses.split(',').sort()).toEqual([first.address, second.address].sort())

    // the world: no node of dc-46 in the ring, the rows as before at LOCAL_ONE in dc-45
    expect(Object.keys(await ring())).toEqual([w.cluster.dcSpecs(SRC, 1)[0].address])
    expect({ count: await count(), sample: await sample() }).toEqual(before)

    // every request either cluster saw came from the identity with an Entra token its Roles allowed
    const seen = [...w.source.accessLog, ...w.target.accessLog]
    expect(seen.length).toBeGreaterThan(20)
    expect([...new Set(seen.map((e) => e.credential?.kind))]).toEqual(['entra'])
    // denied: nothing but kubectl's own check after a NotFound (the Lease not there yet), a GET of the
    // namespace the Roles need not grant (kubectl reports the NotFound either way)
    const denied = (log: typeof seen): string[] =>
      log.flatMap((e, i) => (e.status === 401 || (e.status === 403 && !(e.method === 'GET' && e.path === '/api/v1/namespaces/apigee' && log[i - 1]?.status === 404)) ? [`${e.status} ${e.method} ${e.path}`] : []))
    expect([...denied(w.source.accessLog), ...denied(w.target.accessLog)]).toEqual([])

    // and a third run finds nothing to do
    const again = await runAction('decommission-dc', inputs(), { env: runEnv('503') })
    expect(again.code).toBe(0)
    expect(again.outputs.removed).toBe('0')
    expect(visible(again.stdout)).toContain(`no node of '${TGT}' in the ring: nothing to do`)
  }, 900_000)
})
