// fault-mode http-chaos: the fault region's pods stay up but fail (the outlier-detection path),
// injected by Chaos Mesh through one HTTPChaos object (chaos-mesh.org/v1alpha1) per deployment,
// `mr-drill-<deployment>` in the service's namespace. The object itself says whose drill it is and
// until when that drill may still be running (annotations mr-actions.io/owner = the run URL of the
// attempt, mr-actions.io/expires), so a later run tells a live drill (refuse, change nothing) from
// a leftover of a run that died (delete it, go on). Restore deletes the object, and only when it is
// still this run's. Chaos Mesh ends the injection by itself after spec.duration even when nobody
// deletes the object: that is the safety net if the runner, the post step and the cancel all fail.
import { PreflightError } from '../errors.ts'
import { type KubeObject, type Kubectl } from '../kube/kubectl.ts'
import { earlierAttempt } from '../kube/lease.ts'

export const OWNER = 'mr-actions.io/owner'
export const EXPIRES = 'mr-actions.io/expires'
/** Chaos Mesh's duration beyond fault-duration: covers the calls between the end of the fault phase and the delete. */
export const DURATION_MARGIN_MS = 30_000

/** 'abort' resets the request; a number replaces the response's status code. */
export type ChaosAction = 'abort' | number

export interface ChaosPlan {
  name: string
  action: ChaosAction
  /** the pods' port Chaos Mesh intercepts; undefined: the deployment's first container port */
  port?: number
  /** spec.duration of the object: fault-duration plus DURATION_MARGIN_MS, in whole seconds */
  durationMs: number
  /** how long after creation the drill may still run (fault-duration + restore-timeout, at least durationMs): the expiry */
  liveMs: number
  /** chaos-pods: how many of the deployment's pods fail (Chaos Mesh mode fixed); undefined: all (mode all) */
  pods?: number
}

export interface ChaosTarget {
  namespace: string
  deployment: string
}

export const chaosName = (deployment: string): string => `mr-drill-${deployment}`

/** chaos-action: 'abort' or a 5xx status (outlier detection counts only 5xx and resets, nothing else ejects a pod). */
export function parseChaosAction(text: string): { ok: ChaosAction } | { error: string } {
  if (text === 'abort') return { ok: 'abort' }
  if (/^5\d\d$/.test(text)) return { ok: Number(text) }
  return { error: `'${text}' is neither 'abort' nor a 5xx status code` }
}

export function chaosPlan(deployment: string, action: ChaosAction, port: number | undefined, faultDurationMs: number, restoreTimeoutMs: number, pods?: number): ChaosPlan {
  // whole seconds (a Go duration Chaos Mesh reads), never shorter than the fault phase
  const durationMs = Math.ceil((faultDurationMs + DURATION_MARGIN_MS) / 1000) * 1000
  // live while the drill may still run, and never shorter than Chaos Mesh injects
  return { name: chaosName(deployment), action, port, durationMs, liveMs: Math.max(durationMs, faultDurationMs + restoreTimeoutMs), pods }
}

export function describeAction(a: ChaosAction): string {
  return a === 'abort' ? 'requests aborted' : `responses replaced by ${a}`
}

/** The object, created at `now` by `owner`, selecting the deployment's pods. */
export function chaosManifest(p: ChaosPlan, t: ChaosTarget, o: { owner: string; now: number; matchLabels: Record<string, string>; port: number }): KubeObject {
  return {
    apiVersion: 'chaos-mesh.org/v1alpha1',
    kind: 'HTTPChaos',
    metadata: {
      name: p.name,
      namespace: t.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'mr-actions' },
      annotations: { [OWNER]: o.owner, [EXPIRES]: new Date(o.now + p.liveMs).toISOString() }
    },
    spec: {
      // Chaos Mesh's selection: every pod the selector matches, or a fixed number of them (value is a string)
      ...(p.pods === undefined ? { mode: 'all' } : { mode: 'fixed', value: String(p.pods) }),
      selector: { namespaces: [t.namespace], labelSelectors: o.matchLabels },
      // an abort cuts the request before the app sees it; a replaced code needs the app's response
      target: p.action === 'abort' ? 'Request' : 'Response',
      port: o.port,
      ...(p.action === 'abort' ? { abort: true } : { replace: { code: p.action } }),
      duration: `${p.durationMs / 1000}s`
    }
  }
}

export type ChaosVerdict = { kind: 'none' } | { kind: 'leftover'; owner: string; why: string } | { kind: 'live'; owner?: string; expires?: string }

/** Pure: what an existing object means for a drill by `me` at `now`. */
export function judge(obj: KubeObject | undefined, me: string, now: number): ChaosVerdict {
  if (!obj) return { kind: 'none' }
  const owner = obj.metadata.annotations?.[OWNER]
  const expires = obj.metadata.annotations?.[EXPIRES]
  // without our owner it is not a drill of this action: someone's own chaos, never ours to delete
  if (!owner) return { kind: 'live', expires }
  if (owner === me) return { kind: 'leftover', owner, why: 'this run made it' }
  // GitHub starts attempt N+1 only after attempt N ended: that attempt's object is a leftover
  if (earlierAttempt(owner, me)) return { kind: 'leftover', owner, why: 'an earlier attempt of this run made it' }
  const until = Date.parse(expires ?? '')
  if (!Number.isNaN(until) && until <= now) return { kind: 'leftover', owner, why: `it expired at ${expires}` }
  return { kind: 'live', owner, expires }
}

export function liveError(t: ChaosTarget, name: string, v: Extract<ChaosVerdict, { kind: 'live' }>, where: string): PreflightError {
  if (!v.owner) {
    return new PreflightError(
      `httpchaos/${name} exists in namespace ${t.namespace} (${where}) without the ${OWNER} annotation: not a drill of this action; nothing was changed`,
      `delete it (kubectl delete httpchaos ${name} -n ${t.namespace}) if it is not needed, then run again`
    )
  }
  return new PreflightError(
    `a drill by ${v.owner} is live on deployment ${t.deployment} until ${v.expires ?? 'an unknown time'} (httpchaos/${name} in namespace ${t.namespace}, ${where}); nothing was changed`,
    `wait for it or delete httpchaos/${name} (kubectl delete httpchaos ${name} -n ${t.namespace}) if that run is gone`
  )
}

export function readChaos(kubectl: Kubectl, t: ChaosTarget, name: string): Promise<KubeObject | undefined> {
  return kubectl.getJson<KubeObject>(['httpchaos', name], t.namespace)
}

/** `kubectl create` (not apply): an object another drill made meanwhile fails it instead of being overwritten. */
export async function createChaos(kubectl: Kubectl, t: ChaosTarget, obj: KubeObject, me: string, now: () => number): Promise<void> {
  const res = await kubectl.run(['create', '-f', '-'], t.namespace, { stdin: JSON.stringify(obj), allowFailure: true })
  if (res.code === 0) return
  if (/AlreadyExists|already exists/i.test(res.stderr)) {
    const v = judge(await readChaos(kubectl, t, obj.metadata.name), me, now())
    if (v.kind === 'live') throw liveError(t, obj.metadata.name, v, kubectl.label)
  }
  throw new PreflightError(
    `could not create httpchaos/${obj.metadata.name} in namespace ${t.namespace} (${kubectl.label}): ${res.stderr.trim().split('\n')[0] || `exit ${res.code}`}`,
    'Chaos Mesh must be installed in that cluster (CRD httpchaos.chaos-mesh.org) and the identity needs create/get/delete on httpchaos'
  )
}

/** Deletes the object when `owner` made it (idempotent); leaves anyone else's alone. */
export async function deleteOwnedChaos(
  kubectl: Kubectl,
  t: ChaosTarget,
  name: string,
  owner: string,
  hooks: { info: (m: string) => void; warning: (m: string) => void }
): Promise<{ at: number; action: string } | undefined> {
  const obj = await readChaos(kubectl, t, name)
  if (!obj) return undefined
  const theirs = obj.metadata.annotations?.[OWNER]
  if (theirs !== owner) {
    hooks.warning(`httpchaos/${name} in namespace ${t.namespace} belongs to ${theirs ?? 'no mr-actions run'}, not to this run (${owner}): left alone`)
    return undefined
  }
  const at = Date.now()
  await kubectl.run(['delete', 'httpchaos', name, '--ignore-not-found'], t.namespace)
  hooks.info(`deleted httpchaos/${name} in namespace ${t.namespace}`)
  return { at, action: `deleted httpchaos/${name}` }
}

interface Deployment {
  spec?: { selector?: { matchLabels?: Record<string, string> }; template?: { spec?: { containers?: Array<{ ports?: Array<{ containerPort?: number }> }> } } }
}

/** What the object selects: the deployment's matchLabels, and the port (input, else its first container port). */
export function podSelection(d: Deployment, t: ChaosTarget, port: number | undefined, where: string): { matchLabels: Record<string, string>; port: number } {
  const matchLabels = d.spec?.selector?.matchLabels ?? {}
  if (!Object.keys(matchLabels).length) {
    throw new PreflightError(`deployment ${t.deployment} in namespace ${t.namespace} (${where}) has no spec.selector.matchLabels to select its pods with`, 'use fault-mode scale-to-zero or command for this deployment')
  }
  const found = port ?? d.spec?.template?.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.containerPort)?.containerPort
  if (!found) throw new PreflightError(`deployment ${t.deployment} (${where}) declares no container port`, "set input 'chaos-port' to the port the pods serve on")
  return { matchLabels, port: found }
}
