// P2 and P3: rebuild-dc against raw `nodetool rebuild`, measured in one run on the same real
// Cassandra ring through the real kubectl and the Kubernetes API double. Both DCs have two nodes in
// racks ra-1 and ra-2 and RF 2 (the shape of a real region: every rack holds a full replica), so
// each new node streams everything, from the source node of its own rack (Cassandra's snitch
// prefers the same rack name).
//   raw:  for each dc-36 pod in turn, `kubectl exec -i POD -- sh -c '... nodetool -u U -pwf F
//         rebuild -ks kb_raw -- dc-35'` holding the exec open until it returns (the runbook way,
//         with the same stdin/-pwf secret handling as ours)
//   seq:  the rebuild-dc BUNDLE with its defaults (poll-interval 10s: one netstats JVM per poll),
//         sequential, keyspaces kb_seq (background job + polling)
//   par:  the rebuild-dc BUNDLE, parallel-racks, keyspaces kb_par
// Goals (issue 11, Cassandra 4.x): P2 = seq / raw <= 1.05; P3 = par / seq <= 0.55; P9 = the spot check afterwards reads at
// most 2,000 keys per rebuilt node, at no more than spot-check-rate queries per second per DC.
// Fair comparison on the same data: Cassandra 4.1+ refuses to rebuild ranges already streamed
// (available_ranges_v2) and a wipe would need a node replacement, so each run rebuilds its own
// keyspace (`-ks`), all three holding the same SSTables (loaded once, imported twice) and all
// three replicating to both DCs before the first run. Verification (spot check) is off in the
// timed runs, as raw nodetool verifies nothing; it runs once afterwards (not timed).
// Usage: [THROTTLE_MBIT=1] node bench/rebuild.ts [rows]   (takes /tmp/sandbox.lock; starts and stops 4 nodes)
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { runAction, type StepResult } from '../sandbox/runner.ts'
import { ensureBundles, haveSandbox, lockSandbox, regionInputs, startMiniWorld } from '../__tests__/actions/expand-keyspaces/harness.ts'
import { Kubectl } from '../src/core/kube/kubectl.ts'
import { secretShell, secretStdin } from '../src/core/kube/podshell.ts'
import { capStreaming, loadPayload, ROW_BYTES, tableMiB } from './payload.ts'

const ROWS = Number(process.argv[2] ?? 16000)
const SRC = 'dc-35'
const TGT = 'dc-36'
const KS = ['kb_raw', 'kb_seq', 'kb_par']

if (!haveSandbox()) {
  console.error('bench/rebuild: run npm run setup first (kubectl, cqlsh, nodetool, Cassandra jars)')
  process.exit(1)
}
ensureBundles(['rebuild-dc'])
const release = await lockSandbox()
const t0 = Date.now()
const log = (s: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}`)
const w = await startMiniWorld({ sourceDc: SRC, targetDc: TGT, sourceNodes: 2, racks: ['ra-1', 'ra-2'] }).catch((e) => {
  release()
  throw e
})
try {
  const srcNodes = w.cluster.nodes().filter((n) => n.datacenter === SRC)
  const src = srcNodes[0]
  // identical data in three keyspaces: COPY FROM into kb_raw, flush, then the same SSTable files
  // imported into kb_seq and kb_par on each source node (`nodetool import`, a copy of the files)
  for (const ks of KS) {
    await w.cluster.cql(src.name, [`CREATE KEYSPACE ${ks} WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 2}`, `CREATE TABLE ${ks}.t (id int PRIMARY KEY, v text)`])
  }
  await loadPayload(w.cluster, src.name, { table: `${KS[0]}.t`, rows: ROWS, dir: w.dir })
  for (const n of srcNodes) {
    await w.cluster.nodetool(n.name, ['flush', KS[0]])
    const from = join(w.cluster.paths(n.name).data, 'data', KS[0])
    const table = readdirSync(from).find((d) => d.startsWith('t-'))!
    for (const ks of KS.slice(1)) {
      // the importer reads keyspace and table names from the last two directories
      const dir = join(w.dir, 'import', n.name, ks, 't')
      mkdirSync(dir, { recursive: true })
      for (const f of readdirSync(join(from, table))) if (!statSync(join(from, table, f)).isDirectory()) copyFileSync(join(from, table, f), join(dir, f))
      await w.cluster.nodetool(n.name, ['import', ks, 't', dir])
      if (readdirSync(dir).some((f) => f.endsWith('-Data.db'))) throw new Error(`nodetool import left the files of ${ks} in ${dir}: see ${n.name}'s log`)
    }
  }
  const sizes = await Promise.all(KS.map((ks) => tableMiB(w.cluster, src.name, `${ks}.t`)))
  log(`loaded ${ROWS} rows of ${ROW_BYTES} random bytes into ${KS.join(', ')}: ${sizes.map((x) => x.toFixed(1)).join(' / ')} MiB on disk per node`)

  const seeds = [src.address]
  const specs = [w.cluster.dcSpecs(TGT, 1, { first: 0, rack: 'ra-1', seeds })[0], w.cluster.dcSpecs(TGT, 1, { first: 1, rack: 'ra-2', seeds })[0]]
  w.cluster.start(specs)
  await w.cluster.waitUp(specs)
  w.addRegion(w.target, TGT)
  await w.cluster.cql(
    src.name,
    [...KS, 'system_auth', 'system_distributed', 'system_traces'].map((k) => `ALTER KEYSPACE ${k} WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 2, '${TGT}': 2}`)
  )
  // The roles too (untimed): the spot check reads through the new DC's nodes at LOCAL_ONE, and a
  // login there needs system_auth's rows in that DC, as after expand-keyspaces and a rebuild.
  for (const s of specs) await w.cluster.nodetool(s.name, ['rebuild', '-ks', 'system_auth', '--', SRC])
  log(`${TGT} up (ra-1, ra-2), keyspaces replicate to both DCs (RF 2 each), system_auth rebuilt there`)
  // Streaming on loopback takes a second or two for this data, so the comparison would only
  // measure fixed costs; cap each source node's outbound streaming (a WAN link between regions)
  // so the transfer dominates, as it does for real data. Each new node owns every range here
  // (RF = node count), so Cassandra sends whole SSTables, capped by the entire-SSTable throughput
  // (bench/payload.ts capStreaming); the partial-SSTable cap is THROTTLE_MBIT. 0 turns both off.
  const mbit = Number(process.env.THROTTLE_MBIT ?? 1)
  await capStreaming(w.cluster, srcNodes.map((n) => n.name), mbit)
  if (mbit > 0) log(`streaming out of each source node capped at ${mbit} Mbit/s`)

  const env = { ...process.env, ...w.env } as Record<string, string>
  const kube = new Kubectl({ context: 'region-target', kubeconfig: w.kubeconfig })
  const pods = ['apigee-cassandra-default-0', 'apigee-cassandra-default-1']
  // (the same stdin -> 0600 -pwf handling as Nodetool, without registering the password with
  // @actions/core, which would print an ::add-mask:: line with it to this console)
  const script = secretShell(['U', 'P'], 'printf \'%s %s\\n\' "$U" "$P" > "$d/jmx"\nnodetool -u "$U" -pwf "$d/jmx" "$@"')
  const c = w.cluster.credentials()
  const stdin = secretStdin([c.jmxUser, c.jmxPassword])

  // raw: the runbook, one exec held open per node, one node after another
  process.env.PATH = env.PATH
  let t = Date.now()
  for (const pod of pods) await kube.exec('apigee', pod, ['sh', '-c', script, 'sh', 'rebuild', '-ks', 'kb_raw', '--', SRC], { stdin, quiet: true })
  const raw = Date.now() - t
  log(`raw sequential nodetool rebuild: ${(raw / 1000).toFixed(1)}s`)

  const action = async (ks: string, parallel: boolean, extra: Record<string, string> = { verify: 'false' }): Promise<{ ms: number; r: StepResult }> => {
    const start = Date.now()
    const r = await runAction(
      'rebuild-dc',
      {
        'source-datacenter': SRC,
        'target-datacenter': TGT,
        ...regionInputs(w),
        keyspaces: ks,
        'parallel-racks': String(parallel),
        ...extra,
        'state-dir': join(w.dir, 'pod-state')
      },
      { env: w.env }
    )
    if (r.code !== 0) throw new Error(`rebuild-dc ${ks} failed:\n${r.stdout.slice(-3000)}`)
    return { ms: Date.now() - start, r }
  }
  const seq = await action('kb_seq', false)
  log(`rebuild-dc sequential: ${(seq.ms / 1000).toFixed(1)}s (${seq.r.outputs['bytes-streamed']} bytes)`)
  const par = await action('kb_par', true)
  log(`rebuild-dc parallel-racks: ${(par.ms / 1000).toFixed(1)}s (${par.r.outputs['bytes-streamed']} bytes)`)
  // which source node each new node streamed from (the progress lines name the peers)
  for (const pod of pods) {
    const last = par.r.stdout.split('\n').filter((l) => l.startsWith(`${pod}:`) && l.includes('%')).pop()
    if (last) log(`  ${last.trim()}`)
  }

  // P9: the spot check alone (the same request again: every node is skipped, then verified)
  const RATE = 100
  const check = await action('kb_par', true, { verify: 'true', 'spot-check-rate': String(RATE) })
  const spot = JSON.parse(readFileSync(check.r.outputs['report-path'], 'utf8')).data.spotCheck as { keys: number; queries: number; rows: number; ms: number }
  const perNode = spot.keys / pods.length
  const rate = spot.queries / 2 / (spot.ms / 1000) // queries per second per DC (half on each side, plus re-checks)
  log(`spot check: ${spot.keys} keys, ${spot.queries} queries, ${spot.rows} rows in ${(spot.ms / 1000).toFixed(1)}s`)

  const p2 = seq.ms / raw
  const p3 = par.ms / seq.ms
  console.log(`P2 rebuild-dc sequential / raw sequential nodetool rebuild = ${p2.toFixed(3)} (goal <= 1.05) ${p2 <= 1.05 ? 'PASS' : 'FAIL'}`)
  console.log(`P3 rebuild-dc parallel-racks / sequential               = ${p3.toFixed(3)} (goal <= 0.55) ${p3 <= 0.55 ? 'PASS' : 'FAIL'}`)
  console.log(`P9 spot check keys read per rebuilt node = ${perNode.toFixed(0)} (goal <= 2000) at ${rate.toFixed(1)} queries/s per DC (limit ${RATE}) ${perNode <= 2000 && rate <= RATE ? 'PASS' : 'FAIL'}`)
  console.log(JSON.stringify({ rows: ROWS, throttleMbit: mbit, rawMs: raw, seqMs: seq.ms, parMs: par.ms, p2, p3, spotCheck: spot }))
} finally {
  await w.close()
  release()
}
