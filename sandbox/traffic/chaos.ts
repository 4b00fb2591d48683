// The part of Chaos Mesh's controller the traffic sandbox plays: an HTTPChaos object
// (chaos-mesh.org/v1alpha1) in a region's cluster makes the pods it selects fail while it exists
// and its duration lasts (abort: the connection is reset; replace.code / code: the status is
// replaced) on the port it names (a pod that does not declare that port is selected but untouched:
// Chaos Mesh's proxy intercepts only that port), and its status says so (conditions Selected /
// AllInjected / AllRecovered, one container record per pod), as the real controller reports it.
import type { Obj } from './istio.ts'
import type { Replica, ReplicaFault } from './replica.ts'

export interface PodView {
  replica: Replica
  namespace: string
  labels: Record<string, string>
  /** the container ports the pod declares */
  ports: number[]
}

export function durationMs(text: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(text ?? ''))
  return m ? Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as 'ms']! : undefined
}

/** The pods an HTTPChaos selects (selector.namespaces / labelSelectors, then mode + value). */
export function select(chaos: Obj, pods: PodView[]): PodView[] {
  const sel = (chaos.spec?.selector ?? {}) as Obj
  const namespaces = (sel.namespaces as string[] | undefined) ?? [String(chaos.metadata?.namespace ?? 'default')]
  const labels = (sel.labelSelectors ?? {}) as Record<string, string>
  const matched = pods.filter((p) => namespaces.includes(p.namespace) && Object.entries(labels).every(([k, v]) => p.labels[k] === v))
  const value = String(chaos.spec?.value ?? '')
  switch (chaos.spec?.mode) {
    case 'one':
      return matched.slice(0, 1)
    case 'fixed':
      return matched.slice(0, Math.max(0, Number(value) || 0))
    case 'fixed-percent':
    case 'random-max-percent':
      return matched.slice(0, Math.floor((matched.length * (Number(value) || 0)) / 100))
    default:
      return matched
  }
}

/** The fault an HTTPChaos injects into a response, or undefined for actions the sandbox does not play. */
export function faultOf(chaos: Obj): Omit<ReplicaFault, 'by'> | undefined {
  const s = (chaos.spec ?? {}) as Obj
  if (s.abort === true) return { abort: true }
  const code = s.replace?.code ?? s.code
  if (typeof code === 'number') return { code }
  return undefined
}

/** Whether the fault reaches the pod's traffic: spec.port unset, or one of the pod's ports. */
export function intercepts(chaos: Obj, pod: PodView): boolean {
  const port = chaos.spec?.port
  return port === undefined || pod.ports.includes(Number(port))
}

/** Whether the object is in its injection window (created, duration not yet over). */
export function active(chaos: Obj, now = Date.now()): boolean {
  const d = durationMs(chaos.spec?.duration)
  const start = Date.parse(String(chaos.metadata?.creationTimestamp ?? ''))
  if (d === undefined || Number.isNaN(start)) return true
  // creationTimestamp has second precision: the window counts from the second it names
  return now < start + 1000 + d
}

export function status(chaos: Obj, selected: PodView[], injected: boolean): Obj {
  const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  const cond = (type: string, ok: boolean): Obj => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: t })
  return {
    conditions: [cond('Selected', selected.length > 0), cond('AllInjected', injected && selected.length > 0), cond('AllRecovered', !injected), cond('Paused', false)],
    experiment: {
      desiredPhase: injected ? 'Run' : 'Stop',
      containerRecords: selected.map((p) => ({ id: `${p.namespace}/${p.replica.instance}`, phase: injected ? 'Injected' : 'Not Injected', selectorKey: '.' }))
    }
  }
}
