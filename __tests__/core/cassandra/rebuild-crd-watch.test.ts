// watchReplication's loop with the operator's status and netstats given as sequences and a
// simulated clock: completion, the operator's error, stall, timeout, attaching. The real readers
// (kubectl, nodetool) are exercised by __tests__/actions/rebuild-dc/crd.sandbox.test.ts.
import { describe, expect, it } from '@jest/globals'
import type { ReceiveProgress } from '../../../src/core/cassandra/netstats.ts'
import type { ReplicationStatus } from '../../../src/core/cassandra/rebuild-crd-plan.ts'
import { type OperatorContext, watchReplication, type WatchIo } from '../../../src/core/cassandra/rebuild-crd.ts'
import type { TargetNode } from '../../../src/core/cassandra/rebuild-plan.ts'
import { Deadline } from '../../../src/core/wait.ts'

const P0 = 'apigee-cassandra-default-0'
const P1 = 'apigee-cassandra-default-1'
const node = (pod: string, i: number): TargetNode => ({ pod, address: `10.0.0.${i + 1}`, hostId: `h${i}`, rack: 'ra-1', datacenter: 'dc-2', up: true, state: 'N' })

function world(o: { timeoutMs?: number; stallMs?: number } = {}) {
  let t = 1_000_000
  const now = (): number => t
  const lines: string[] = []
  const ctx: OperatorContext = {
    kube: {} as never,
    namespace: 'apigee',
    nodetool: {} as never,
    sourceDc: 'dc-1',
    targetDc: 'dc-2',
    organization: 'org',
    targets: [node(P0, 0), node(P1, 1)],
    pollMs: 10_000,
    progressMs: 30_000,
    stallMs: o.stallMs ?? 120_000,
    deadline: new Deadline(o.timeoutMs ?? 3_600_000, now),
    log: (l) => lines.push(l),
    now,
    sleep: async (ms) => {
      t += ms
    }
  }
  return { ctx, lines, text: () => lines.join('\n') }
}

/** io that returns statuses in order (the last one repeats) and bytes per pod per call. */
function io(statuses: (ReplicationStatus | undefined)[], bytes: Record<string, number[]> = {}): WatchIo {
  let i = 0
  const calls: Record<string, number> = {}
  return {
    status: async () => statuses[Math.min(i++, statuses.length - 1)],
    netstats: async (pod) => {
      const seq = bytes[pod]
      if (!seq) return undefined
      const done = seq[Math.min((calls[pod] = (calls[pod] ?? -1) + 1), seq.length - 1)]
      const total = 1000
      return {
        planIds: ['p1'],
        sessions: [{ planId: 'p1', peer: '10.0.1.1', receiving: { files: 2, doneFiles: done >= total ? 2 : 0, bytes: total, doneBytes: done } }],
        peers: [{ peer: '10.0.1.1', files: 2, doneFiles: 0, bytes: total, doneBytes: done }],
        bytes: total,
        doneBytes: done,
        files: 2,
        doneFiles: 0,
        percent: (100 * done) / total
      } satisfies ReceiveProgress
    }
  }
}

const st = (state: string | undefined, pods: Record<string, [string, number] | [string, number, string]>): ReplicationStatus => ({
  state,
  pods: Object.fromEntries(Object.entries(pods).map(([p, [s, u, m]]) => [p, { state: s, updated: u, message: m }]))
})
const OLD = st('complete', { [P0]: ['complete', 1], [P1]: ['complete', 2] })

describe('watchReplication', () => {
  it('after an apply: ignores the old status, follows the pods to complete, bytes from netstats', async () => {
    const w = world()
    const seq = [OLD, OLD, st('running', { [P0]: ['running', 10] }), st('running', { [P0]: ['running', 10] }), st('running', { [P0]: ['complete', 20], [P1]: ['running', 20] }), st('complete', { [P0]: ['complete', 20], [P1]: ['complete', 30] })]
    const r = await watchReplication(w.ctx, io(seq, { [P0]: [200, 1000], [P1]: [500] }), { name: 'region-expansion', before: OLD, applied: true })
    expect(r.map((x) => [x.node.pod, x.outcome, x.bytes])).toEqual([
      [P0, 'rebuilt', 1000],
      [P1, 'rebuilt', 500]
    ])
    expect(w.text()).toMatch(new RegExp(`${P0}: operator state running[\\s\\S]*${P0}: operator state complete[\\s\\S]*every pod of dc-2 complete`))
    expect(w.text()).toMatch(/apigee-cassandra-default-0: running; 1000 B \/ 1000 B \(100\.0%\), .*; from 10\.0\.1\.1 100\.0%\napigee-cassandra-default-1: waiting/)
    expect(w.text()).not.toMatch(/operator state waiting/)
  })

  it("the operator's error fails the pod with its message; later pods are not started", async () => {
    const w = world()
    const msg = "failed to rebuild from dc-9: Provided datacenter 'dc-9' is not a valid datacenter, available datacenters are: dc-2,dc-1"
    const r = await watchReplication(w.ctx, io([OLD, st('running', { [P0]: ['running', 10] }), st('error', { [P0]: ['error', 11, msg] })]), { name: 'x', before: OLD, applied: true })
    expect(r.map((x) => [x.node.pod, x.outcome])).toEqual([
      [P0, 'failed'],
      [P1, 'not-started']
    ])
    expect(r[0].error).toContain(`${P0}: the Apigee operator reports error: ${msg}`)
    expect(r[0].error).toMatch(/fix: check source-datacenter \(dc-1\)/)
  })

  it('stall: no status change and no byte for stall-timeout fails loudly, saying a re-run re-attaches', async () => {
    const w = world({ stallMs: 60_000 })
    const running = st('running', { [P0]: ['running', 10] })
    const r = await watchReplication(w.ctx, io([OLD, running], { [P0]: [100] }), { name: 'x', before: OLD, applied: true })
    expect(r[0].outcome).toBe('failed')
    expect(r[0].error).toMatch(/the replication stalled: neither the ApigeeDatastore status nor any pod's received bytes changed for 1m\d*s? \(state running\)/)
    expect(r[0].error).toMatch(/a re-run re-attaches/)
    expect(r[1].outcome).toBe('not-started')
  })

  it('bytes still flowing keep it from stalling', async () => {
    const w = world({ stallMs: 25_000 })
    const running = st('running', { [P0]: ['running', 10] })
    const done = st('complete', { [P0]: ['complete', 20], [P1]: ['complete', 21] })
    const statuses = [OLD, ...Array(8).fill(running), done]
    const r = await watchReplication(w.ctx, io(statuses, { [P0]: [100, 200, 300, 400, 500, 600, 700, 800] }), { name: 'x', before: OLD, applied: true })
    expect(r.map((x) => x.outcome)).toEqual(['rebuilt', 'rebuilt'])
  })

  it('an operator that never picks the replication up stalls with that said', async () => {
    const w = world({ stallMs: 30_000 })
    const r = await watchReplication(w.ctx, io([OLD]), { name: 'region-expansion', before: OLD, applied: true })
    expect(r[0].error).toMatch(/the operator never picked up region-expansion/)
    expect(w.text()).toMatch(/waiting for the operator to pick up region-expansion/)
  })

  it('timeout: fails naming the running pod and says the re-run re-attaches', async () => {
    const w = world({ timeoutMs: 45_000 })
    const running = st('running', { [P0]: ['running', 10] })
    const r = await watchReplication(w.ctx, io([running], { [P0]: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }), { name: 'x', applied: false })
    expect(r[0]).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/still running when this run's time ran out \(apigee-cassandra-default-0 running, apigee-cassandra-default-1 waiting\)[\s\S]*it re-attaches/) })
  })

  it('attaching: a pod complete before this run is reported skipped, the rest rebuilt', async () => {
    const w = world()
    const at = st('running', { [P0]: ['complete', 5], [P1]: ['running', 6] })
    const r = await watchReplication(w.ctx, io([at, st('complete', { [P0]: ['complete', 5], [P1]: ['complete', 9] })]), { name: 'x', before: at, applied: false })
    expect(r.map((x) => [x.node.pod, x.outcome, x.why])).toEqual([
      [P0, 'skipped', 'completed before this run attached'],
      [P1, 'rebuilt', 'operator state complete']
    ])
  })
})
