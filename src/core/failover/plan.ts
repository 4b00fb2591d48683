// verify-failover's inputs, read and checked as a whole before anything is changed: regions and
// expected weights, how to recognise each region's responses, the statistics, the fault. Every
// problem is collected (InputReader) so a user fixes them in one round.
import { ActionError, InputError } from '../errors.ts'
import type { InputReader } from '../inputs.ts'
import { rules } from '../patterns.ts'
import type { Topology } from '../topology.ts'
import { formatDuration } from '../wait.ts'
import { parseRule, type ClassifyRule } from './classify.ts'
import { chaosPlan, parseChaosAction, type ChaosAction, type ChaosPlan } from './http-chaos.ts'
import { defaultAlternatives, leakAlternatives, requiredNFixed, type Alternative } from './stats.ts'

export const FAULT_MODES = ['none', 'scale-to-zero', 'http-chaos', 'command'] as const
export type FaultMode = (typeof FAULT_MODES)[number]

export interface KubeFaultTarget {
  context?: string
  kubeconfig?: string
  namespace: string
  deployment: string
}

/** Where the mesh's Istio objects live (prechecks read them with kubectl). */
export interface MeshTarget {
  namespace: string
  context?: string
  kubeconfig?: string
  /** The topology region whose cluster that is, when known. */
  region?: string
}

export interface FailoverPlan {
  url: string
  mesh?: MeshTarget
  regions: string[]
  /** Expected shares, summing to 1. */
  expected: Record<string, number>
  rules: Record<string, ClassifyRule>
  alpha: number
  beta: number
  alternatives: Alternative[]
  splitTest: 'sprt' | 'fixed'
  maxRequests: number
  /** For split-test fixed: the N the exact / chi-square test needs. */
  fixedN: number
  maxErrors: number
  intervalMs: number
  requestTimeoutMs: number
  fault: {
    mode: FaultMode
    region?: string
    durationMs: number
    command?: string
    restoreCommand?: string
    kube?: KubeFaultTarget
    chaos?: ChaosPlan
  }
  consecutive: number
  restoreTimeoutMs: number
  /** steady-state gate: ready replicas every survivor needs before a fault */
  minHealthyReplicas: number
  /** abort guard: error share of the survivors' probes within the window that stops the drill */
  abortErrorRate: number
  abortWindowMs: number
  dryRun: boolean
}

export const ANNOTATION = 'mr-actions.io/original-replicas'

/** "eastus=90, westeurope=10" (percent summing to 100, or fractions summing to 1). */
export function parseWeights(text: string): { ok: Record<string, number> } | { error: string } {
  const out: Record<string, number> = {}
  const items = text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean)
  if (items.length < 2) return { error: 'give at least two regions as region=weight' }
  for (const it of items) {
    const m = /^([A-Za-z0-9-]+)\s*[=:]\s*(\S+)$/.exec(it)
    if (!m) return { error: `'${it}' is not region=weight` }
    const w = Number(m[2])
    if (!Number.isFinite(w) || w < 0) return { error: `weight of ${m[1]} is not a non-negative number ('${m[2]}')` }
    if (m[1] in out) return { error: `region ${m[1]} is listed twice` }
    out[m[1]] = w
  }
  const sum = Object.values(out).reduce((a, b) => a + b, 0)
  const scale = Math.abs(sum - 100) < 1e-6 ? 100 : Math.abs(sum - 1) < 1e-9 ? 1 : 0
  if (!scale) return { error: `weights sum to ${+sum.toFixed(6)}, not 100 (percent) or 1 (fractions)` }
  for (const k of Object.keys(out)) out[k] /= scale
  return { ok: out }
}

/** Lines "<region> <body|header|json> <spec>". */
export function parseClassify(text: string): { ok: Record<string, { kind: string; spec: string }> } | { error: string } {
  const out: Record<string, { kind: string; spec: string }> = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^([A-Za-z0-9-]+)\s+(\S+)\s+(.+)$/.exec(line)
    if (!m) return { error: `'${line}' is not '<region> <body|header|json> <rule>'` }
    if (m[1] in out) return { error: `region ${m[1]} has two rules` }
    out[m[1]] = { kind: m[2], spec: m[3] }
  }
  return { ok: out }
}

/** "region=share" items; "doubled" (or empty) for the default. */
export function parseAlternative(text: string, expected: Record<string, number>): { ok: Alternative[] } | { error: string } {
  const t = text.trim()
  if (t === '' || t === 'doubled') return { ok: defaultAlternatives(expected) }
  const out: Alternative[] = []
  for (const it of t.split(/[\n,]/).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9-]+)\s*=\s*(\S+)$/.exec(it)
    if (!m) return { error: `'${it}' is not region=share` }
    if (!(m[1] in expected)) return { error: `region ${m[1]} is not in weights` }
    let share = Number(m[2].replace(/%$/, ''))
    if (m[2].endsWith('%')) share /= 100
    if (!Number.isFinite(share) || share <= 0 || share >= 1) return { error: `share '${m[2]}' for ${m[1]} is not in (0, 1) (or 0%-100%)` }
    if (Math.abs(share - expected[m[1]]) < 1e-9) return { error: `the alternative for ${m[1]} equals its expected share` }
    out.push({ region: m[1], share })
  }
  // a drained region is always checked, at the default leak unless named here
  return { ok: [...out, ...leakAlternatives(expected).filter((l) => !out.some((a) => a.region === l.region))] }
}

export function readPlan(inputs: InputReader, topo: Topology | undefined): FailoverPlan | undefined {
  const tRegions = topo?.regions ?? {}
  // Regions come from the weights; the topology fills URLs and rules.
  const weightsText = inputs.requiredString('weights', { accepted: "region=weight pairs such as 'eastus=90, westeurope=10'" })
  let expected: Record<string, number> = {}
  if (weightsText) {
    const w = parseWeights(weightsText)
    if ('error' in w) inputs.fail(new InputError('weights', `${w.error} (got '${weightsText}')`, "region=weight pairs summing to 100, e.g. 'eastus=90, westeurope=10'"))
    else expected = w.ok
  }
  const regions = Object.keys(expected)
  if (topo) {
    for (const r of regions) {
      if (!(r in tRegions)) inputs.fail(new InputError('weights', `region '${r}' is not in topology ${topo.path}`, `use regions from the topology: ${Object.keys(tRegions).join(', ')}`))
    }
  }
  // When the weights did not parse, their regions are unknown: the topology's URL of any region
  // stands in, and a missing URL is not reported (one error per mistake: the weights are it).
  const urlRegions = regions.length ? regions : Object.keys(tRegions)
  const firstUrl = urlRegions.map((r) => tRegions[r]?.ingress.url).find(Boolean)
  const urlRule = { pattern: /^https?:\/\/[^\s/]+(\/\S*)?$/, accepted: 'an http(s) URL such as https://api.example.com/hello', fallback: { from: 'topology regions.<region>.ingress.url', value: firstUrl } }
  const url = weightsText && !regions.length ? (inputs.string('ingress-url', urlRule) ?? '') : inputs.requiredString('ingress-url', urlRule)
  const mesh = readMeshTarget(inputs, topo, regions)

  // Classification: the input's lines first, then the topology's ingress.{body,header,json}.
  const clsText = inputs.string('classify') ?? ''
  const cls = parseClassify(clsText)
  const specs: Record<string, { kind: string; spec: string; from: string }> = {}
  if ('error' in cls) inputs.fail(new InputError('classify', cls.error, "one line per region: '<region> body <regex>' | '<region> header <name>: <regex>' | '<region> json <path>=<value>'"))
  else {
    for (const [r, s] of Object.entries(cls.ok)) {
      if (regions.length && !regions.includes(r)) inputs.fail(new InputError('classify', `region '${r}' is not in weights`, `classify only the regions in weights: ${regions.join(', ')}`))
      specs[r] = { ...s, from: "input 'classify'" }
    }
  }
  for (const r of regions) {
    if (specs[r]) continue
    const ing = tRegions[r]?.ingress
    const k = ing?.body !== undefined ? 'body' : ing?.header !== undefined ? 'header' : ing?.json !== undefined ? 'json' : undefined
    if (k) specs[r] = { kind: k, spec: ing![k]!, from: `topology regions.${r}.ingress.${k}` }
    else inputs.fail(new InputError('classify', `no rule for region '${r}' (and no topology regions.${r}.ingress.body/header/json)`, `add a line '${r} header x-region: ^${r}$' or similar`))
  }
  const parsedRules: Record<string, ClassifyRule> = {}
  for (const [r, s] of Object.entries(specs)) {
    const p = parseRule(s.kind, s.spec)
    if ('error' in p) inputs.fail(new ActionError(`${s.from}: rule for ${r} '${s.kind} ${s.spec}': ${p.error}`, "rules are '<body|header|json> <spec>': body <regex>, header <name>: <regex>, json <path>=<value>"))
    else parsedRules[r] = p.rule
  }

  const alpha = inputs.number('alpha', { min: 0, max: 0.5, exclusiveMin: true, default: 0.01 }) ?? 0.01
  const beta = inputs.number('beta', { min: 0, max: 0.5, exclusiveMin: true, default: 0.01 }) ?? 0.01
  let alternatives: Alternative[] = []
  const altText = inputs.string('alternative') ?? ''
  if (regions.length) {
    const a = parseAlternative(altText, expected)
    if ('error' in a) inputs.fail(new InputError('alternative', `${a.error} (got '${altText}')`, "'doubled' or region=share items such as 'westeurope=0.2'"))
    else alternatives = a.ok
  }
  const splitTest = inputs.choice('split-test', ['sprt', 'fixed'] as const, { default: 'sprt' }) ?? 'sprt'
  const maxRequests = inputs.int('max-requests', { min: 10, max: 1000000, default: 1000 }) ?? 1000
  const maxErrors = inputs.int('max-errors', { min: 0, default: 0 }) ?? 0
  const intervalMs = inputs.duration('probe-interval', { default: 100, maxMs: 60000 }) ?? 100
  const requestTimeoutMs = inputs.duration('request-timeout', { default: 2000, minMs: 10, maxMs: 120000 }) ?? 2000

  const mode = inputs.choice('fault-mode', FAULT_MODES, { default: 'none' }) ?? 'none'
  const faultRegion = inputs.string('fault-region', { pattern: rules.region.re, accepted: rules.region.accepted })
  if (mode !== 'none') {
    if (!faultRegion) inputs.fail(new InputError('fault-region', `is required with fault-mode ${mode}`, `name the region to fail, one of ${regions.join(', ') || 'the regions in weights'}`))
    else if (regions.length && !regions.includes(faultRegion)) inputs.fail(new InputError('fault-region', `region '${faultRegion}' is not in weights`, `one of ${regions.join(', ')}`))
    else if (regions.length && regions.filter((r) => r !== faultRegion && expected[r] > 0).length === 0) {
      inputs.fail(new InputError('fault-region', `no other region with a weight above 0 would be left to serve`, 'fail a region whose traffic has somewhere to go'))
    }
  }
  const durationMs = inputs.duration('fault-duration', { default: 30000, minMs: 100, maxMs: 3600000 }) ?? 30000
  const command = inputs.string('fault-command')
  const restoreCommand = inputs.string('restore-command')
  if (mode === 'command' && !command) inputs.fail(new InputError('fault-command', 'is required with fault-mode command', 'give the command that injects the fault'))
  if (mode === 'command' && command && !restoreCommand) {
    inputs.fail(new InputError('restore-command', 'is required with fault-mode command: the drill must be able to undo what it did', 'give the command that undoes the fault'))
  }
  if ((mode === 'scale-to-zero' || mode === 'http-chaos') && command) inputs.fail(new InputError('fault-command', `is not used with fault-mode ${mode}`, 'remove it, or use fault-mode command'))
  const actionText = inputs.string('chaos-action')
  let action: ChaosAction = 'abort'
  // with another fault mode the input is out of place, whatever its value: that is the one error (below)
  if (actionText && mode === 'http-chaos') {
    const a = parseChaosAction(actionText)
    if ('error' in a) inputs.fail(new InputError('chaos-action', a.error, "'abort' (requests reset) or a 5xx status such as 503 (responses replaced): outlier detection ejects pods only on 5xx and resets"))
    else action = a.ok
  }
  const chaosPort = inputs.int('chaos-port', { min: 1, max: 65535 })
  // a partial failure: that many of the region's pods fail (HTTPChaos mode fixed), the rest serve
  const chaosPods = inputs.int('chaos-pods', { min: 1, max: 10000 })
  // action.yml's default 'abort' reaches every run: only a value someone chose is out of place
  for (const [name, given] of [['chaos-action', actionText !== undefined && actionText !== 'abort'], ['chaos-port', chaosPort !== undefined], ['chaos-pods', chaosPods !== undefined]] as const) {
    if (given && mode !== 'http-chaos') inputs.fail(new InputError(name, `is only used with fault-mode http-chaos (got mode ${mode})`, 'remove it or set fault-mode: http-chaos'))
  }
  if (chaosPods !== undefined && mode === 'http-chaos' && !mesh) {
    inputs.fail(new InputError('chaos-pods', "needs the mesh's DestinationRule (its localityLbSetting.distribute weights) to predict the shift, and no mesh-namespace is set", 'set topology mesh: { namespace, region } (or input mesh-namespace), or omit chaos-pods'))
  }

  const consecutive = inputs.int('consecutive', { min: 1, max: 10000, default: 10 }) ?? 10
  const restoreTimeoutMs = inputs.duration('restore-timeout', { default: 120000, minMs: 100, maxMs: 3600000 }) ?? 120000
  const minHealthyReplicas = inputs.int('min-healthy-replicas', { min: 1, max: 10000, default: 1 }) ?? 1
  const abortErrorRate = inputs.number('abort-error-rate', { min: 0, max: 1, default: 0.5 }) ?? 0.5
  const abortWindowMs = inputs.duration('abort-window', { default: 5000, minMs: 10, maxMs: 3600000 }) ?? 5000

  // The two modes in which the action itself changes the fault region's cluster.
  const kube = (mode === 'scale-to-zero' || mode === 'http-chaos') && faultRegion ? readKubeTarget(inputs, topo, faultRegion) : undefined
  const chaos = mode === 'http-chaos' && kube ? chaosPlan(kube.deployment, action, chaosPort, durationMs, restoreTimeoutMs, chaosPods) : undefined
  if (faultRegion && mode !== 'none' && durationMs < intervalMs * (consecutive + 2)) {
    inputs.fail(
      new InputError(
        'fault-duration',
        `${formatDuration(durationMs)} is too short to see ${consecutive} consecutive responses at a probe interval of ${formatDuration(intervalMs)}`,
        `make it at least ${formatDuration(intervalMs * (consecutive + 2))}, or lower consecutive / probe-interval`
      )
    )
  }
  let fixedN = 0
  if (!inputs.failed && regions.length) {
    try {
      fixedN = requiredNFixed(expected, alternatives, { alpha, beta })
    } catch (e) {
      inputs.fail(new InputError('alternative', (e as Error).message, 'choose an alternative further from the expected shares'))
    }
    if (splitTest === 'fixed' && fixedN > maxRequests) {
      inputs.fail(new InputError('max-requests', `${maxRequests} is below the ${fixedN} requests the fixed-N test needs at alpha ${alpha} / power ${1 - beta}`, `raise max-requests to ${fixedN} or use split-test: sprt`))
    }
  }
  const dryRun = inputs.bool('dry-run', { default: false })
  inputs.done()
  return {
    url,
    mesh,
    regions,
    expected,
    rules: parsedRules,
    alpha,
    beta,
    alternatives,
    splitTest,
    maxRequests,
    fixedN,
    maxErrors,
    intervalMs,
    requestTimeoutMs,
    fault: { mode, region: faultRegion, durationMs, command, restoreCommand, kube, chaos },
    consecutive,
    restoreTimeoutMs,
    minHealthyReplicas,
    abortErrorRate,
    abortWindowMs,
    dryRun
  }
}

/**
 * Where the mesh's Istio objects are read: inputs mesh-namespace / mesh-context, else topology
 * mesh.namespace in the cluster of mesh.region; without mesh: in the topology, the first region
 * of weights (its service namespace and kube context). No namespace at all: prechecks skipped.
 */
function readMeshTarget(inputs: InputReader, topo: Topology | undefined, regions: string[]): MeshTarget | undefined {
  const m = topo?.mesh
  const at = m?.region ?? regions.find((r) => topo?.regions[r])
  const region = at ? topo?.regions[at] : undefined
  const namespace = inputs.string('mesh-namespace', {
    pattern: rules.kubeName.re,
    accepted: rules.kubeName.accepted,
    fallback: m ? { from: 'topology mesh.namespace', value: m.namespace } : { from: `topology regions.${at ?? '<region>'}.service.namespace`, value: region?.service.namespace }
  })
  const context = inputs.string('mesh-context', {
    pattern: rules.kubeContext.re,
    accepted: rules.kubeContext.accepted,
    fallback: { from: `topology regions.${at ?? '<region>'}.kube.context${m?.region ? ' (mesh.region)' : ''}`, value: region?.kube.context }
  })
  return namespace ? { namespace, context, kubeconfig: region?.kube.kubeconfig, ...(at ? { region: at } : {}) } : undefined
}

/** deployment, namespace, kube-context, kubeconfig of the fault region: the inputs, else the topology. */
function readKubeTarget(inputs: InputReader, topo: Topology | undefined, faultRegion: string): KubeFaultTarget {
  const tr = topo?.regions[faultRegion]
  const deployment = inputs.requiredString('deployment', {
    pattern: rules.kubeName.re,
    accepted: rules.kubeName.accepted,
    fallback: { from: `topology regions.${faultRegion}.service.deployment`, value: tr?.service.deployment }
  })
  const namespace =
    inputs.string('namespace', {
      pattern: rules.kubeName.re,
      accepted: rules.kubeName.accepted,
      fallback: { from: `topology regions.${faultRegion}.service.namespace`, value: tr?.service.namespace ?? tr?.kube.namespace }
    }) ?? 'default'
  const context = inputs.string('kube-context', {
    pattern: rules.kubeContext.re,
    accepted: rules.kubeContext.accepted,
    fallback: { from: `topology regions.${faultRegion}.kube.context`, value: tr?.kube.context }
  })
  const kubeconfig = inputs.string('kubeconfig', { fallback: { from: `topology regions.${faultRegion}.kube.kubeconfig`, value: tr?.kube.kubeconfig } })
  return { deployment, namespace, context, kubeconfig }
}
