// P1: expand-keyspaces on N keyspaces (default 200) vs. the naive way, one `kubectl exec ... cqlsh`
// per ALTER KEYSPACE, measured in one run on the same real Cassandra ring (2 DCs) through the same
// real kubectl and Kubernetes API double. Goals: ratio <= 0.05 and ours <= 1.3x the floor.
//   naive: for each keyspace, one `kubectl exec -i POD -- sh -c ... cqlsh --credentials ... -f`
//          (the same secret handling as ours, so the only difference is one process per ALTER)
//   ours:  the expand-keyspaces BUNDLE run as the runner does (reads, plan, gates, ONE session
//          for all ALTERs, schema agreement, re-read and verify), once per cql-client:
//          driver (default: cqlsh's driver, one agreement wait at the end) and cqlsh (cqlsh -f,
//          which waits for agreement after every statement)
//   floor: the ALTERs alone in one driver session with no agreement wait (the server's own cost)
// Between runs, the new DC is taken out again with expand-keyspaces mode remove (not timed).
// Usage: node bench/expand.ts [keyspaces] [clients]   (takes /tmp/sandbox.lock; 2 nodes)
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runAction } from '../sandbox/runner.ts'
import { ensureBundles, haveSandbox, lockSandbox, startMiniWorld } from '../__tests__/actions/expand-keyspaces/harness.ts'
import { Kubectl } from '../src/core/kube/kubectl.ts'
import { Cqlsh, cqlIdent } from '../src/core/cassandra/cqlsh.ts'

const N = Number(process.argv[2] ?? 200)
const CLIENTS = (process.argv[3] ?? 'driver,cqlsh').split(',')
const SRC = 'dc-33'
const TGT = 'dc-34'

if (!haveSandbox()) {
  console.error('bench/expand: run npm run setup first (kubectl, cqlsh, nodetool, Cassandra jars)')
  process.exit(1)
}
ensureBundles(['expand-keyspaces'])
const release = await lockSandbox()
const t0 = Date.now()
const log = (s: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}`)
const w = await startMiniWorld({ sourceDc: SRC, targetDc: TGT, sourceNodes: 1 }).catch((e) => {
  release()
  throw e
})
try {
  log(`${SRC} up`)
  const ca = w.source.get('secrets', 'cert-manager', 'apigee-ca')!
  w.target.apply({ ...ca, metadata: { name: 'apigee-ca', namespace: 'cert-manager' } })
  const ov = join(w.dir, 'overrides-target.yaml')
  writeFileSync(ov, `cassandra:\n  hostNetwork: true\n  multiRegionSeedHost: 127.0.33.1\n  datacenter: ${TGT}\n  rack: ra-1\n`)
  await w.installRegion(ov, 1)
  log(`${TGT} up`)
  const names = Array.from({ length: N }, (_, i) => `ks_${String(i).padStart(3, '0')}`)
  await w.cluster.cql(`${SRC}-0`, names.map((n) => `CREATE KEYSPACE IF NOT EXISTS ${n} WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1}`), { timeoutMs: 600_000 })
  log(`${N} keyspaces created`)

  const kube = new Kubectl({ kubeconfig: w.kubeconfig, context: 'region-source', bin: join(w.env.PATH.split(':')[0], 'kubectl') })
  const creds = w.cluster.credentials()
  const cqlsh = new Cqlsh({ kube, namespace: 'apigee' }, { user: creds.ddlUser, password: creds.ddlPassword })
  const pod = 'apigee-cassandra-default-0'
  const common = { 'source-kubeconfig': w.kubeconfig, 'source-context': 'region-source', 'source-datacenter': SRC, 'target-datacenter': TGT, 'keyspaces': names.join(',') }

  // naive: one exec + one cqlsh per ALTER
  let t = Date.now()
  for (const n of names) {
    await cqlsh.session(pod, [`ALTER KEYSPACE ${cqlIdent(n)} WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': '1', '${TGT}': '1'}`], { quiet: true })
  }
  const naiveMs = Date.now() - t
  log(`naive: ${N} execs in ${(naiveMs / 1000).toFixed(1)}s`)

  const alters = names.map((n) => `ALTER KEYSPACE ${cqlIdent(n)} WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': '1', '${TGT}': '1'}`)
  const reset = async (): Promise<void> => {
    const rm = await runAction('expand-keyspaces', { ...common, mode: 'remove' }, { env: w.env, cwd: w.dir })
    if (rm.code !== 0 || rm.outputs.altered !== String(N)) throw new Error(`remove failed:\n${rm.stdout}`)
  }
  await reset()
  t = Date.now()
  const floor = await cqlsh.session(pod, alters, { driver: true, quiet: true, timeoutMs: 600_000 })
  const floorMs = Date.now() - t
  if (floor.via !== 'driver') throw new Error('floor: the driver did not run')
  log(`floor: ${N} ALTERs in one driver session, no agreement wait: ${(floorMs / 1000).toFixed(1)}s`)

  const results: { client: string; oursMs: number; ratio: number; vsFloor: number; pass: boolean }[] = []
  for (const client of CLIENTS) {
    await reset()
    log(`reset: ${TGT} removed again`)
    t = Date.now()
    const ours = await runAction('expand-keyspaces', { ...common, 'cql-client': client }, { env: w.env, cwd: w.dir })
    const oursMs = Date.now() - t
    if (ours.code !== 0 || ours.outputs.altered !== String(N)) throw new Error(`expand-keyspaces failed:\n${ours.stdout}`)
    const ratio = oursMs / naiveMs
    log(`ours (cql-client ${client}): whole action in ${(oursMs / 1000).toFixed(1)}s, ratio ${ratio.toFixed(3)}`)
    results.push({ client, oursMs, ratio: Number(ratio.toFixed(3)), vsFloor: Number((oursMs / floorMs).toFixed(2)), pass: ratio <= 0.05 && oursMs <= 1.3 * floorMs })
  }
  console.log(JSON.stringify({ bench: 'P1 expand-keyspaces', keyspaces: N, naiveMs, floorMs, goal: { ratio: 0.05, floor: 1.3 }, results }))
  for (const r of results) {
    console.log(
      `P1 expand-keyspaces: ${N} keyspaces, naive ${(naiveMs / 1000).toFixed(1)}s, ours (cql-client ${r.client}) ${(r.oursMs / 1000).toFixed(1)}s: ` +
        `ratio ${r.ratio} (goal <= 0.05); ours / floor (${(floorMs / 1000).toFixed(1)}s) = ${r.vsFloor} (goal <= 1.3): ${r.pass ? 'PASS' : 'FAIL'}`
    )
  }
} finally {
  await w.close()
  release()
}
