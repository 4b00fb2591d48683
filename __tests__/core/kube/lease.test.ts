// The lock every changing action takes: decisions as pure functions, then the real kubectl against
// the Kubernetes API double (which stores coordination.k8s.io/v1 Leases and answers 409 to a stale
// resourceVersion, as the real API server does).
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startKubeCluster, writeKubeconfig, type KubeCluster } from '../../../sandbox/kube/index.ts'
import { Kubectl } from '../../../src/core/kube/kubectl.ts'
import { acquireLease, decide, LeaseHeldError, microTime, runHolder, type Lease } from '../../../src/core/kube/lease.ts'

const KUBECTL = resolve('.cache/bin/kubectl')
const have = existsSync(KUBECTL)
const d = have ? describe : describe.skip
if (!have) it('kubectl is installed (npm run setup)', () => expect(have).toBe(true))

const T0 = Date.parse('2026-12-04T10:00:00Z')
const lease = (holder: string | undefined, renew: number, dur = 60): Lease => ({ metadata: { name: 'l' }, spec: { holderIdentity: holder, renewTime: microTime(renew), leaseDurationSeconds: dur } })

describe('decide', () => {
  it('creates when absent, renews its own, refuses a live holder, takes an expired or released one', () => {
    expect(decide(undefined, 'me', T0)).toEqual({ kind: 'create' })
    expect(decide(lease('me', T0 - 500_000), 'me', T0)).toEqual({ kind: 'renew' })
    expect(decide(lease('other', T0 - 10_000), 'me', T0)).toEqual({ kind: 'held', holder: 'other', expires: T0 + 50_000 })
    expect(decide(lease('other', T0 - 61_000), 'me', T0)).toEqual({ kind: 'take', previous: 'other' })
    expect(decide(lease(undefined, T0), 'me', T0)).toEqual({ kind: 'take', previous: undefined })
  })
  it("takes a live Lease over from an earlier attempt of the same run (a lost runner's), never from another run or a later attempt", () => {
    const run = (id: number, attempt: number): string => `https://github.com/o/r/actions/runs/${id}/attempts/${attempt}`
    expect(decide(lease(run(42, 1), T0 - 10_000), run(42, 2), T0)).toEqual({ kind: 'take', previous: run(42, 1) })
    expect(decide(lease(run(42, 2), T0 - 10_000), run(42, 1), T0)).toMatchObject({ kind: 'held', holder: run(42, 2) })
    expect(decide(lease(run(41, 1), T0 - 10_000), run(42, 2), T0)).toMatchObject({ kind: 'held', holder: run(41, 1) })
    expect(decide(lease(run(42, 1), T0 - 10_000), 'local:vm:1', T0)).toMatchObject({ kind: 'held' })
  })
  it('names the run by its URL', () => {
    expect(runHolder({ GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' })).toBe('https://github.com/o/r/actions/runs/42/attempts/2')
    expect(runHolder({})).toMatch(/^local:/)
    expect(microTime(T0)).toBe('2026-12-04T10:00:00.000000Z')
  })
})

d('Leases through kubectl on the API double', () => {
  let c: KubeCluster
  let k: Kubectl
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lease-'))
    c = await startKubeCluster({ name: 'east', tlsDir: join(dir, 'tls'), namespaces: ['apigee'] })
    k = new Kubectl({ bin: KUBECTL, kubeconfig: writeKubeconfig(join(dir, 'kubeconfig'), [c], { currentContext: 'east' }), context: 'east' })
  })
  afterAll(async () => c?.close())
  const opts = (holder: string, o: { durationSeconds?: number; name?: string } = {}) => ({ namespace: 'apigee', name: o.name ?? 'mr-actions-lock', holder, durationSeconds: o.durationSeconds ?? 60 })

  it('is taken, refused to another run naming the holder and the expiry, released, then taken by the other', async () => {
    const a = await acquireLease(k, opts('https://github.com/o/r/actions/runs/1/attempts/1'))
    const stored = c.get('leases', 'apigee', 'mr-actions-lock') as Lease
    expect(stored.spec).toMatchObject({ holderIdentity: 'https://github.com/o/r/actions/runs/1/attempts/1', leaseDurationSeconds: 60, leaseTransitions: 0 })
    let err: unknown
    try {
      await acquireLease(k, opts('https://github.com/o/r/actions/runs/2/attempts/1'))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(LeaseHeldError)
    expect(String((err as Error).message)).toMatch(/Lease apigee\/mr-actions-lock on context east is held by https:\/\/github\.com\/o\/r\/actions\/runs\/1\/attempts\/1 \(it expires at 20\d\d-.*Z, in \d+s/)
    // Renewal moves renewTime forward and keeps the holder.
    const before = Date.parse(stored.spec!.renewTime!)
    await new Promise((r) => setTimeout(r, 20))
    await a.renew()
    expect(Date.parse((c.get('leases', 'apigee', 'mr-actions-lock') as Lease).spec!.renewTime!)).toBeGreaterThan(before)
    await a.release()
    expect((c.get('leases', 'apigee', 'mr-actions-lock') as Lease).spec!.holderIdentity).toBeUndefined()
    const b = await acquireLease(k, opts('https://github.com/o/r/actions/runs/2/attempts/1'))
    expect((c.get('leases', 'apigee', 'mr-actions-lock') as Lease).spec).toMatchObject({ holderIdentity: 'https://github.com/o/r/actions/runs/2/attempts/1', leaseTransitions: 1 })
    await b.release()
  })

  it('takes over the Lease of a dead holder once it expired', async () => {
    c.apply({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'dead', namespace: 'apigee' }, spec: { holderIdentity: 'run-that-died', leaseDurationSeconds: 15, renewTime: microTime(Date.now() - 16_000) } } as never)
    const l = await acquireLease(k, opts('me', { name: 'dead' }))
    expect((c.get('leases', 'apigee', 'dead') as Lease).spec!.holderIdentity).toBe('me')
    await l.release()
  })

  it('two runs racing for a free Lease: exactly one wins, the other is refused naming the winner', async () => {
    const results = await Promise.allSettled([acquireLease(k, opts('run-a', { name: 'race' })), acquireLease(k, opts('run-b', { name: 'race' }))])
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    const holder = (c.get('leases', 'apigee', 'race') as Lease).spec!.holderIdentity
    expect(String(lost[0].reason.message)).toContain(`is held by ${holder}`)
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLease>>>).value.release()
  })

  it('kubectl get lease shows the holder', async () => {
    const l = await acquireLease(k, opts('https://example/run/9', { name: 'shown' }))
    const out = await k.run(['get', 'lease', 'shown'], 'apigee', { quiet: true })
    expect(out.stdout).toMatch(/NAME\s+HOLDER\s+AGE\nshown\s+https:\/\/example\/run\/9/)
    await l.release()
  })
})
