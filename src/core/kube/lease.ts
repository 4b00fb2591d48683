// One writer at a time: every action that changes replication, ring membership or traffic holds a
// coordination.k8s.io/v1 Lease in the source region's cluster while it works. The Lease is the
// object Kubernetes' own leader election uses: holderIdentity, leaseDurationSeconds, renewTime.
// A holder that dies stops renewing, and its Lease expires after leaseDurationSeconds; a live one
// renews it every third of that. Takeover and renewal go through `kubectl replace` with the
// resourceVersion read, so two runs racing for an expired or free Lease cannot both win (the API
// server answers 409 Conflict to the slower one).
//
// Usage (in an action, after the inputs are read and before the first read that a change is
// computed from):
//   const lease = await acquireLease(kube, { namespace, ...readLeaseInputs(inputs), holder: runHolder(), log: core.info })
//   try { ...read, plan, apply; call lease.check() between long steps... } finally { await lease.release() }
// acquireLease throws LeaseHeldError (naming the holder and when its Lease expires) while another
// run holds it. Cancel (SIGINT/SIGTERM from the runner) releases too, unless releaseOnSignal is
// false (then the action's own signal handler calls release() before it exits).
import { hostname } from 'node:os'
import { ActionError } from '../errors.ts'
import type { InputReader } from '../inputs.ts'
import { rules } from '../patterns.ts'
import { KubeError, type KubeObject, type Kubectl } from './kubectl.ts'

export const DEFAULT_LEASE_NAME = 'mr-actions-lock'
export const DEFAULT_LEASE_SECONDS = 60

export interface LeaseSpec {
  holderIdentity?: string
  leaseDurationSeconds?: number
  acquireTime?: string
  renewTime?: string
  leaseTransitions?: number
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec
}

export class LeaseHeldError extends ActionError {}

/** The run's URL as the holder: who holds the lock, and a link to the run that does. */
export function runHolder(env: NodeJS.ProcessEnv = process.env): string {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run, GITHUB_RUN_ATTEMPT: attempt } = env
  if (server && repo && run) return `${server}/${repo}/actions/runs/${run}${attempt ? `/attempts/${attempt}` : ''}`
  return `local:${hostname()}:${process.pid}`
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** When a Lease expires (ms since the epoch), or undefined when nobody holds it. */
export function expiresAt(l: Lease | undefined): number | undefined {
  const s = l?.spec
  if (!s?.holderIdentity) return undefined
  const renewed = Date.parse(s.renewTime ?? s.acquireTime ?? '')
  if (Number.isNaN(renewed)) return undefined
  return renewed + (s.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS) * 1000
}

export type LeaseDecision = { kind: 'create' } | { kind: 'renew' } | { kind: 'take'; previous?: string } | { kind: 'held'; holder: string; expires: number }

/**
 * Whether `current` is an earlier attempt of the run `holder` belongs to: GitHub starts attempt N+1
 * ("Re-run jobs") only once attempt N has ended, so that Lease is a leftover (a lost runner's).
 */
export function earlierAttempt(current: string, holder: string): boolean {
  const re = /^(.+\/actions\/runs\/\d+)\/attempts\/(\d+)$/
  const a = re.exec(current)
  const b = re.exec(holder)
  return !!a && !!b && a[1] === b[1] && Number(a[2]) < Number(b[2])
}

/** Pure: what to do with the Lease as read, for `holder` at time `now`. */
export function decide(l: Lease | undefined, holder: string, now: number): LeaseDecision {
  if (!l) return { kind: 'create' }
  const current = l.spec?.holderIdentity
  if (current === holder) return { kind: 'renew' }
  const exp = expiresAt(l)
  if (current && exp !== undefined && exp > now && !earlierAttempt(current, holder)) return { kind: 'held', holder: current, expires: exp }
  return { kind: 'take', previous: current || undefined }
}

export function heldError(name: string, namespace: string, where: string, holder: string, expires: number, now: number): LeaseHeldError {
  const left = Math.max(0, Math.ceil((expires - now) / 1000))
  return new LeaseHeldError(
    `Lease ${namespace}/${name} on ${where} is held by ${holder} (it expires at ${new Date(expires).toISOString()}, in ${left}s, unless renewed): another run is changing this cluster's replication, ring or traffic`,
    `wait until that run ends (it releases the Lease on success, failure or cancel; a dead holder's Lease expires by itself), then run again; if that run is gone for good, delete it: kubectl delete lease ${name} -n ${namespace}`
  )
}

export interface LeaseOptions {
  namespace: string
  name: string
  holder: string
  durationSeconds: number
  log?: (line: string) => void
  now?: () => number
  /** Release and exit on SIGINT/SIGTERM (default); false when the action has its own cancel
   *  handling that must finish first (a drill's restore) and releases the Lease itself. */
  releaseOnSignal?: boolean
}

export interface LeaseInputs {
  name: string
  durationSeconds: number
}

/** Inputs lease-name and lease-duration (shared by every action that takes the lock). */
export function readLeaseInputs(inputs: InputReader): LeaseInputs {
  const name = inputs.requiredString('lease-name', { default: DEFAULT_LEASE_NAME, pattern: rules.kubeName.re, accepted: rules.kubeName.accepted })
  const ms = inputs.duration('lease-duration', { default: DEFAULT_LEASE_SECONDS * 1000, minMs: 15_000, maxMs: 3600_000 }) ?? DEFAULT_LEASE_SECONDS * 1000
  return { name, durationSeconds: Math.round(ms / 1000) }
}

/** A Lease this run holds: renewed in the background until released. */
export class HeldLease {
  private timer?: NodeJS.Timeout
  private lost?: string
  private releasing?: Promise<void>
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    void this.release().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143))
  }

  private readonly kube: Kubectl
  private readonly o: LeaseOptions
  private current: Lease

  constructor(kube: Kubectl, o: LeaseOptions, current: Lease) {
    this.kube = kube
    this.o = o
    this.current = current
    this.timer = setInterval(() => void this.renew(), Math.max(1000, (o.durationSeconds * 1000) / 3))
    this.timer.unref()
    if (o.releaseOnSignal !== false) {
      process.once('SIGINT', this.onSignal)
      process.once('SIGTERM', this.onSignal)
    }
  }

  get holder(): string {
    return this.o.holder
  }

  /** Throws when the Lease was lost (a renewal found another holder): stop before the next change. */
  check(): void {
    if (this.lost) throw new LeaseHeldError(`lost Lease ${this.o.namespace}/${this.o.name}: ${this.lost}`, 'another run took the lock (this run stopped renewing for longer than lease-duration?); run again once it ends')
  }

  async renew(): Promise<void> {
    if (this.releasing || this.lost) return
    const now = (this.o.now ?? Date.now)()
    const next: Lease = { ...this.current, spec: { ...this.current.spec, renewTime: microTime(now) } }
    const r = await replaceLease(this.kube, next, this.o.namespace)
    if (r.ok) this.current = r.lease
    else if (r.conflict) {
      const seen = await readLease(this.kube, this.o.namespace, this.o.name)
      if (seen?.spec?.holderIdentity === this.o.holder) this.current = seen
      else this.lost = `now held by ${seen?.spec?.holderIdentity || 'nobody'}`
    } else this.o.log?.(`warning: could not renew Lease ${this.o.namespace}/${this.o.name}: ${r.error}`)
  }

  /** Gives the Lease up (holder cleared) if this run still holds it; a second call waits for the first. */
  release(): Promise<void> {
    this.releasing ??= this.giveUp()
    return this.releasing
  }

  private async giveUp(): Promise<void> {
    clearInterval(this.timer)
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
    if (this.lost) return
    const seen = await readLease(this.kube, this.o.namespace, this.o.name)
    if (seen?.spec?.holderIdentity !== this.o.holder) return
    const spec: LeaseSpec = { ...seen.spec }
    delete spec.holderIdentity
    const r = await replaceLease(this.kube, { ...seen, spec }, this.o.namespace)
    this.o.log?.(r.ok ? `released Lease ${this.o.namespace}/${this.o.name}` : `warning: could not release Lease ${this.o.namespace}/${this.o.name} (${r.conflict ? 'changed meanwhile' : r.error}); it expires by itself`)
  }
}

/**
 * Takes the Lease for this run or throws LeaseHeldError. Creates it when absent, takes it over when
 * free or expired, renews it when this run already holds it (a retried step).
 */
export async function acquireLease(kube: Kubectl, o: LeaseOptions): Promise<HeldLease> {
  const now = o.now ?? Date.now
  for (let attempt = 0; attempt < 5; attempt++) {
    const seen = await readLease(kube, o.namespace, o.name)
    const d = decide(seen, o.holder, now())
    if (d.kind === 'held') throw heldError(o.name, o.namespace, kube.label, d.holder, d.expires, now())
    const t = microTime(now())
    if (d.kind === 'create') {
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: o.name, namespace: o.namespace, labels: { 'app.kubernetes.io/managed-by': 'mr-actions' } },
        spec: { holderIdentity: o.holder, leaseDurationSeconds: o.durationSeconds, acquireTime: t, renewTime: t, leaseTransitions: 0 }
      }
      const res = await kube.run(['create', '-o', 'json', '-f', '-'], o.namespace, { stdin: JSON.stringify(lease), allowFailure: true })
      if (res.code === 0) {
        o.log?.(`took Lease ${o.namespace}/${o.name} on ${kube.label} as ${o.holder} (expires ${o.durationSeconds}s after the last renewal)`)
        return new HeldLease(kube, o, JSON.parse(res.stdout) as Lease)
      }
      if (/AlreadyExists|already exists/i.test(res.stderr)) continue // another run created it first: read again
      throw new KubeError(`could not create Lease ${o.namespace}/${o.name} on ${kube.label}: ${res.stderr.trim().split('\n')[0]}`, 'the identity needs create/get/update on leases.coordination.k8s.io in that namespace')
    }
    const spec: LeaseSpec = { ...seen!.spec, holderIdentity: o.holder, leaseDurationSeconds: o.durationSeconds, renewTime: t }
    if (d.kind === 'take') Object.assign(spec, { acquireTime: t, leaseTransitions: (seen!.spec?.leaseTransitions ?? 0) + 1 })
    const r = await replaceLease(kube, { ...seen!, spec }, o.namespace)
    if (r.ok) {
      o.log?.(d.kind === 'take' ? `took Lease ${o.namespace}/${o.name} on ${kube.label} as ${o.holder}${d.previous ? ` (the previous holder ${d.previous} let it expire)` : ''}` : `Lease ${o.namespace}/${o.name}: already held by this run, renewed`)
      return new HeldLease(kube, o, r.lease)
    }
    if (!r.conflict) throw new KubeError(`could not update Lease ${o.namespace}/${o.name} on ${kube.label}: ${r.error}`, 'the identity needs create/get/update on leases.coordination.k8s.io in that namespace')
  }
  throw new KubeError(`Lease ${o.namespace}/${o.name} on ${kube.label} kept changing while this run tried to take it`, 'another run is taking it at the same time: run again later')
}

export async function readLease(kube: Kubectl, namespace: string, name: string): Promise<Lease | undefined> {
  return kube.getJson<Lease>(['lease', name], namespace, { quiet: true })
}

type ReplaceResult = { ok: true; lease: Lease } | { ok: false; conflict: boolean; error: string }

/** PUT with the resourceVersion read: a 409 means someone else wrote the Lease meanwhile. */
async function replaceLease(kube: Kubectl, l: Lease, namespace: string): Promise<ReplaceResult> {
  const res = await kube.run(['replace', '-o', 'json', '-f', '-'], namespace, { stdin: JSON.stringify(l), allowFailure: true, quiet: true })
  if (res.code === 0) return { ok: true, lease: JSON.parse(res.stdout) as Lease }
  const error = res.stderr.trim().split('\n')[0] ?? `exit ${res.code}`
  return { ok: false, conflict: /Conflict|the object has been modified/i.test(res.stderr), error }
}
