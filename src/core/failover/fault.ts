// Injecting the drill's fault and undoing it, whatever happens. Every change is recorded before
// it is made: in the step state (core.saveState, read by the post step) and, for scale-to-zero,
// as an annotation on the deployment, for http-chaos as the HTTPChaos object's owner and expiry
// (read by any later run; see http-chaos.ts). Changes run one at a time, so a
// restore that a cancel triggers waits for an in-flight change and then undoes it; once a
// restore has begun no new fault is injected.
import { PreflightError } from '../errors.ts'
import { run } from '../exec.ts'
import { Kubectl } from '../kube/kubectl.ts'
import { runHolder } from '../kube/lease.ts'
import { chaosManifest, createChaos, deleteOwnedChaos, judge, liveError, podSelection, readChaos, type ChaosPlan } from './http-chaos.ts'
import { ANNOTATION, type FaultMode, type KubeFaultTarget } from './plan.ts'

export interface FaultRecord {
  mode: FaultMode
  region: string
  kube?: KubeFaultTarget
  originalReplicas?: number
  /** http-chaos: the object and the owner it carries (the post step deletes it only while it is still this run's) */
  chaos?: { name: string; owner: string }
  /** The fault was (or was about to be) injected at this time (epoch ms). */
  at?: number
}

export interface FaultHooks {
  saveState: (name: string, value: string) => void
  info: (msg: string) => void
  warning: (msg: string) => void
  kubectl?: string
  /** Opens the fault region's cluster (AKS: one session for the whole run); default a Kubectl of spec.kube's context / kubeconfig. */
  open?: () => Kubectl
  /** Who this run is (the HTTPChaos owner); default the run URL of this attempt (lease.ts runHolder). */
  owner?: string
}

export interface FaultSpec {
  mode: FaultMode
  region: string
  kube?: KubeFaultTarget
  command?: string
  restoreCommand?: string
  chaos?: ChaosPlan
}

interface Deployment {
  metadata: { name: string; annotations?: Record<string, string> }
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> }; template?: { spec?: { containers?: Array<{ ports?: Array<{ containerPort?: number }> }> } } }
}

/** What an earlier drill left: the replicas its annotation records, or its HTTPChaos object. */
export interface Leftover {
  replicas: number
  leftover?: number
  chaos?: { owner: string; why: string }
}

export interface RestoreResult {
  at: number
  action: string
}

export class FaultController {
  readonly spec: FaultSpec
  readonly hooks: FaultHooks
  private chain: Promise<unknown> = Promise.resolve()
  private closed = false
  injected = false
  private selection?: { matchLabels: Record<string, string>; port: number }

  constructor(spec: FaultSpec, hooks: FaultHooks) {
    this.spec = spec
    this.hooks = hooks
  }

  private kubectl(): Kubectl {
    const k = this.spec.kube!
    return this.hooks.open?.() ?? new Kubectl({ context: k.context, kubeconfig: k.kubeconfig, bin: this.hooks.kubectl, label: `region ${this.spec.region}` })
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn)
    this.chain = next.catch(() => undefined)
    return next
  }

  get owner(): string {
    return this.hooks.owner ?? runHolder()
  }

  get restoring(): boolean {
    return this.closed
  }

  async deployment(): Promise<Deployment | undefined> {
    const k = this.spec.kube!
    return this.kubectl().getJson<Deployment>(['deployment', k.deployment], k.namespace)
  }

  private async requireDeployment(): Promise<Deployment> {
    const k = this.spec.kube!
    const d = await this.deployment()
    if (d) return d
    throw new PreflightError(
      `deployment ${k.deployment} not found in namespace ${k.namespace} (region ${this.spec.region}, ${k.context ? `context ${k.context}` : 'current context'})`,
      'check inputs deployment / namespace / kube-context (or topology regions.<r>.service and kube)'
    )
  }

  /**
   * Before anything else: the deployment must exist (scale-to-zero, http-chaos). Returns what an
   * earlier drill left; throws, changing nothing, while another run's HTTPChaos is live.
   */
  async check(): Promise<Leftover> {
    if (this.spec.mode !== 'scale-to-zero' && this.spec.mode !== 'http-chaos') return { replicas: 0 }
    const k = this.spec.kube!
    const d = await this.requireDeployment()
    if (this.spec.mode === 'http-chaos') {
      const c = this.spec.chaos!
      this.selection = podSelection(d, k, c.port, this.kubectl().label)
      const v = judge(await readChaos(this.kubectl(), k, c.name), this.owner, Date.now())
      if (v.kind === 'live') throw liveError(k, c.name, v, this.kubectl().label)
      return { replicas: d.spec?.replicas ?? 1, chaos: v.kind === 'leftover' ? { owner: v.owner, why: v.why } : undefined }
    }
    const ann = d.metadata.annotations?.[ANNOTATION]
    return { replicas: d.spec?.replicas ?? 1, leftover: ann !== undefined ? Number(ann) : undefined }
  }

  /** Deletes an earlier drill's HTTPChaos that check() judged a leftover (its owner is named there). */
  async clearChaosLeftover(owner: string): Promise<RestoreResult | undefined> {
    return deleteOwnedChaos(this.kubectl(), this.spec.kube!, this.spec.chaos!.name, owner, this.hooks)
  }

  /** Injects the fault; returns when it was issued, or undefined when a restore already began. */
  inject(): Promise<number | undefined> {
    return this.serial(async () => {
      if (this.closed) return undefined
      const s = this.spec
      const record: FaultRecord = { mode: s.mode, region: s.region, kube: s.kube }
      if (s.mode === 'scale-to-zero') {
        const k = s.kube!
        const d = await this.deployment()
        const replicas = d?.spec?.replicas ?? 0
        if (!d || replicas === 0) throw new PreflightError(`deployment ${k.deployment} in region ${s.region} has no replicas to scale down`, 'scale it up first, or fail another region')
        record.originalReplicas = replicas
        record.at = Date.now()
        // State first (the post step), then the annotation (any later run), then the change.
        this.hooks.saveState('fault', JSON.stringify(record))
        await this.kubectl().run(['annotate', `deployment/${k.deployment}`, `${ANNOTATION}=${replicas}`, '--overwrite'], k.namespace)
        this.injected = true
        const at = Date.now()
        await this.kubectl().run(['scale', `deployment/${k.deployment}`, '--replicas=0'], k.namespace)
        return at
      }
      if (s.mode === 'http-chaos') {
        const k = s.kube!
        const c = s.chaos!
        this.selection ??= podSelection(await this.requireDeployment(), k, c.port, this.kubectl().label)
        const owner = this.owner
        record.chaos = { name: c.name, owner }
        record.at = Date.now()
        const obj = chaosManifest(c, k, { owner, now: record.at, ...this.selection })
        // State first (the post step deletes the object on cancel), then the object.
        this.hooks.saveState('fault', JSON.stringify(record))
        this.injected = true
        const at = Date.now()
        await createChaos(this.kubectl(), k, obj, owner, Date.now)
        return at
      }
      record.at = Date.now()
      this.hooks.saveState('fault', JSON.stringify(record))
      this.injected = true
      const at = Date.now()
      await run('bash', ['-c', s.command!], { env: { MR_FAULT_REGION: s.region }, echoOutput: true, timeoutMs: 120000 })
      return at
    })
  }

  /** Undoes the fault (idempotent); waits for an in-flight injection first. */
  restore(): Promise<RestoreResult | undefined> {
    this.closed = true
    return this.serial(async () => {
      const r = await this.undo()
      if (r) this.hooks.saveState('restored', 'true')
      return r
    })
  }

  private async undo(): Promise<RestoreResult | undefined> {
    const s = this.spec
    if (s.mode === 'scale-to-zero') return restoreFromAnnotation(this.kubectl(), s.kube!, this.hooks)
    if (!this.injected) return undefined
    // idempotent by itself (reads the object first), and never deletes another run's
    if (s.mode === 'http-chaos') return deleteOwnedChaos(this.kubectl(), s.kube!, s.chaos!.name, this.owner, this.hooks)
    this.injected = false
    const at = Date.now()
    await run('bash', ['-c', s.restoreCommand!], { env: { MR_FAULT_REGION: s.region }, echoOutput: true, timeoutMs: 120000 })
    return { at, action: 'ran restore-command' }
  }
}

/**
 * Scales the deployment back to the replicas its annotation records and removes the annotation;
 * nothing when there is no annotation (never changed, or already restored).
 */
export async function restoreFromAnnotation(kubectl: Kubectl, k: KubeFaultTarget, hooks: Pick<FaultHooks, 'info' | 'warning'>): Promise<RestoreResult | undefined> {
  const d = await kubectl.getJson<Deployment>(['deployment', k.deployment], k.namespace)
  if (!d) {
    hooks.warning(`deployment ${k.deployment} in namespace ${k.namespace} is gone; nothing to restore`)
    return undefined
  }
  const ann = d.metadata.annotations?.[ANNOTATION]
  if (ann === undefined) return undefined
  const n = Number(ann)
  if (!Number.isInteger(n) || n < 0) {
    hooks.warning(`annotation ${ANNOTATION}='${ann}' on deployment ${k.deployment} is not a replica count; restore it by hand`)
    return undefined
  }
  const at = Date.now()
  if (d.spec?.replicas !== n) await kubectl.run(['scale', `deployment/${k.deployment}`, `--replicas=${n}`], k.namespace)
  await kubectl.run(['annotate', `deployment/${k.deployment}`, `${ANNOTATION}-`], k.namespace)
  hooks.info(`restored deployment ${k.deployment} to ${n} replica(s)`)
  return { at, action: `scaled deployment ${k.deployment} back to ${n}` }
}
