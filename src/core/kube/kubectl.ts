// kubectl through run(): every call is echoed so an operator can replay it. One Kubectl per
// cluster (context / kubeconfig); the namespace is given per call. Objects are read with
// `-o json`; secrets are registered before anything else sees them; anything secret travels on
// stdin, never in argv.
import { ActionError } from '../errors.ts'
import { CommandError, run, type RunOptions, type RunResult } from '../exec.ts'
import { describePermission, forbiddenPermission } from './permissions.ts'
import { registerSecret } from '../secrets.ts'

/** What Kubectl needs to run against a cluster it opened by itself (AKS: see aks.ts). */
export interface KubeSession {
  kubeconfig: string
  env: Record<string, string>
  /** Called before every kubectl call (keeps the token file fresh). */
  beforeCall?: () => Promise<void>
}

export interface KubeTarget {
  /** kubeconfig context (`--context`); empty = the kubeconfig's current context. */
  context?: string
  /** kubeconfig file (`--kubeconfig`); empty = $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string
  /** kubectl binary; default `kubectl` from PATH. */
  bin?: string
  /** A name for messages ("region eastus"). */
  label?: string
  /** Opens the cluster on the first call (AKS: kubeconfig from ARM, kubelogin env); overrides kubeconfig. */
  session?: () => Promise<KubeSession>
  /** Identifies the cluster when there is no context/kubeconfig to compare (the AKS resource). */
  cluster?: string
}

export type KubeObject = {
  apiVersion?: string
  kind?: string
  metadata: {
    name: string
    namespace?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    [k: string]: unknown
  }
  [k: string]: unknown
}

export interface Secret extends KubeObject {
  type?: string
  data?: Record<string, string>
}

export interface ExecOptions {
  container?: string
  stdin?: string
  timeoutMs?: number
  allowFailure?: boolean
  quiet?: boolean
  echoOutput?: boolean
}

export class KubeError extends ActionError {}

export class Kubectl {
  readonly target: KubeTarget
  readonly bin: string
  private opened: Promise<KubeSession> | undefined
  constructor(target: KubeTarget = {}) {
    this.target = target
    this.bin = target.bin || 'kubectl'
  }

  get label(): string {
    return this.target.label ?? (this.target.context ? `context ${this.target.context}` : 'the current kube context')
  }

  /** The global flags (context, kubeconfig) followed by `-n ns` when given. */
  flags(namespace?: string): string[] {
    const f: string[] = []
    if (this.target.kubeconfig) f.push('--kubeconfig', this.target.kubeconfig)
    if (this.target.context) f.push('--context', this.target.context)
    if (namespace) f.push('-n', namespace)
    return f
  }

  async run(args: string[], namespace?: string, o: RunOptions = {}): Promise<RunResult> {
    try {
      if (!this.target.session) return await run(this.bin, [...this.flags(namespace), ...args], o)
      this.opened ??= this.target.session()
      const s = await this.opened
      await s.beforeCall?.()
      const flags = ['--kubeconfig', s.kubeconfig, ...this.flags(namespace).filter((_, i, a) => a[i] !== '--kubeconfig' && a[i - 1] !== '--kubeconfig')]
      return await run(this.bin, [...flags, ...args], { ...o, env: { ...s.env, ...o.env } })
    } catch (e) {
      const denied = e instanceof CommandError ? (forbiddenError(this.label, e.result.stderr) ?? this.unauthorized(e.result.stderr)) : undefined
      throw denied ?? e
    }
  }

  /** A 401 in AKS mode: the API server refused the Entra token kubelogin presented. */
  unauthorized(stderr: string): KubeError | undefined {
    if (!this.target.session || !/Unauthorized|must be logged in/i.test(stderr)) return undefined
    return new KubeError(
      `the API server of ${this.label} refused the Entra ID token kubelogin presented (401 Unauthorized: expired, or issued for another audience or tenant)`,
      "check input 'tenant-id' (the cluster's Entra tenant) and that the cluster has Entra ID integration (server application 6dae42f8-4368-4678-94ff-3960e28e3630); kubelogin fetches a new token for every call, so an expired one means the runner's clock is off"
    )
  }

  /** Same cluster as another Kubectl (same context and kubeconfig, or the same AKS resource). */
  sameCluster(other: Kubectl): boolean {
    const a = this.target
    const b = other.target
    return this === other || (a.context === b.context && a.kubeconfig === b.kubeconfig && a.cluster === b.cluster)
  }

  /** `kubectl get ... -o json`, parsed; undefined when the object does not exist. */
  async getJson<T>(args: string[], namespace?: string, o: { quiet?: boolean } = {}): Promise<T | undefined> {
    const res = await this.run(['get', ...args, '-o', 'json'], namespace, { allowFailure: true, quiet: o.quiet })
    if (res.code !== 0) {
      if (isNotFound(res.stderr)) return undefined
      throw forbiddenError(this.label, res.stderr) ?? new KubeError(`kubectl get ${args.join(' ')} failed on ${this.label}: ${firstLine(res.stderr) || `exit ${res.code}`}`, hintFor(res.stderr))
    }
    try {
      return JSON.parse(res.stdout) as T
    } catch {
      throw new KubeError(`kubectl get ${args.join(' ')} on ${this.label} did not print JSON: ${res.stdout.slice(0, 200)}`)
    }
  }

  async getPods(namespace: string, selector?: string): Promise<PodInfo[]> {
    const list = await this.getJson<{ items?: unknown[] }>(['pods', ...(selector ? ['-l', selector] : [])], namespace)
    return (list?.items ?? []).map((p) => podInfo(p as RawPod))
  }

  async getNamespace(name: string): Promise<KubeObject | undefined> {
    return this.getJson<KubeObject>(['namespace', name])
  }

  /**
   * Reads a secret and registers every decoded value (and its base64) as a secret before
   * returning, except the keys `publicKeys` lists or accepts (usernames, certificates).
   */
  async getSecret(namespace: string, name: string, publicKeys: string[] | ((key: string) => boolean) = []): Promise<Secret | undefined> {
    const isPublic = typeof publicKeys === 'function' ? publicKeys : (k: string): boolean => publicKeys.includes(k)
    const res = await this.run(['get', 'secret', name, '-o', 'json'], namespace, { allowFailure: true })
    if (res.code !== 0) {
      if (isNotFound(res.stderr)) return undefined
      throw forbiddenError(this.label, res.stderr) ?? new KubeError(`kubectl get secret ${name} -n ${namespace} failed on ${this.label}: ${firstLine(res.stderr)}`, hintFor(res.stderr))
    }
    let s: Secret
    try {
      s = JSON.parse(res.stdout) as Secret
    } catch {
      throw new KubeError(`kubectl get secret ${name} on ${this.label} did not print JSON`)
    }
    for (const [k, v] of Object.entries(s.data ?? {})) {
      if (isPublic(k)) continue
      registerSecret(v)
      registerSecret(Buffer.from(v, 'base64').toString('utf8'))
    }
    return s
  }

  /** `kubectl create -f -` with the object on stdin. */
  async create(obj: KubeObject, namespace?: string): Promise<void> {
    await this.run(['create', '-f', '-'], namespace, { stdin: JSON.stringify(inNamespace(obj, namespace)) })
  }

  /** `kubectl replace -f -` (PUT) with the object on stdin. */
  async replace(obj: KubeObject, namespace?: string): Promise<void> {
    await this.run(['replace', '-f', '-'], namespace, { stdin: JSON.stringify(inNamespace(obj, namespace)) })
  }

  /** `kubectl apply -f -` with the object on stdin. */
  async apply(obj: KubeObject, namespace?: string): Promise<void> {
    await this.run(['apply', '-f', '-'], namespace, { stdin: JSON.stringify(inNamespace(obj, namespace)) })
  }

  /** `kubectl exec -i POD -- cmd...`; stdin (which may carry secrets) is fed to the command. */
  async exec(namespace: string, pod: string, command: string[], o: ExecOptions = {}): Promise<RunResult> {
    const args = ['exec', ...(o.stdin !== undefined ? ['-i'] : []), pod, ...(o.container ? ['-c', o.container] : []), '--', ...command]
    return this.run(args, namespace, {
      stdin: o.stdin,
      timeoutMs: o.timeoutMs,
      allowFailure: o.allowFailure,
      quiet: o.quiet,
      echoOutput: o.echoOutput
    })
  }

  async logs(namespace: string, pod: string, o: { container?: string; tail?: number; since?: string } = {}): Promise<string> {
    const args = ['logs', pod, ...(o.container ? ['-c', o.container] : [])]
    if (o.tail !== undefined) args.push(`--tail=${o.tail}`)
    if (o.since) args.push(`--since=${o.since}`)
    return (await this.run(args, namespace, { quiet: true })).stdout
  }
}

// ---- pure helpers -------------------------------------------------------------------------

/** The object placed in `namespace` (kubectl refuses an object whose namespace differs from -n). */
export function inNamespace<T extends KubeObject>(obj: T, namespace?: string): T {
  if (!namespace || obj.kind === 'Namespace' || obj.metadata.namespace === namespace) return obj
  return { ...obj, metadata: { ...obj.metadata, namespace } }
}

const isNotFound = (stderr: string): boolean => /\(NotFound\)|not found/i.test(stderr)
const firstLine = (s: string): string => s.trim().split('\n')[0] ?? ''

/** An RBAC denial turned into an error naming the missing permission. */
export function forbiddenError(label: string, stderr: string): KubeError | undefined {
  const x = forbiddenPermission(stderr)
  if (!x) return undefined
  return new KubeError(
    `the API server of ${label} refused: the identity lacks the permission to ${describePermission(x)}`,
    "grant it in the identity's Role / ClusterRole (docs/aks.md, docs/rbac/<action>.yaml) and re-run"
  )
}

function hintFor(stderr: string): string | undefined {
  if (/context .* does not exist|no context exists/i.test(stderr)) return 'check the kube context name (topology regions.<r>.kube.context or the context input)'
  if (/Unauthorized|Forbidden/i.test(stderr)) return 'the credentials of this kube context lack access: check the cluster login / RBAC'
  if (/connection refused|Unable to connect|no such host|i\/o timeout/i.test(stderr)) return 'the cluster API is not reachable from the runner: check the kubeconfig / network'
  return undefined
}

interface RawPod {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> }
  spec?: { nodeName?: string; hostNetwork?: boolean; containers?: { name?: string }[] }
  status?: {
    phase?: string
    podIP?: string
    hostIP?: string
    conditions?: { type?: string; status?: string }[]
    containerStatuses?: { name?: string; ready?: boolean; restartCount?: number }[]
  }
}

export interface PodInfo {
  name: string
  namespace: string
  labels: Record<string, string>
  phase: string
  ready: boolean
  podIP?: string
  hostIP?: string
  nodeName?: string
  hostNetwork: boolean
  containers: string[]
}

export function podInfo(p: RawPod): PodInfo {
  const st = p.status ?? {}
  const readyCond = (st.conditions ?? []).find((c) => c.type === 'Ready')
  const containersReady = (st.containerStatuses ?? []).length > 0 && (st.containerStatuses ?? []).every((c) => c.ready === true)
  return {
    name: p.metadata?.name ?? '',
    namespace: p.metadata?.namespace ?? '',
    labels: p.metadata?.labels ?? {},
    phase: st.phase ?? 'Unknown',
    ready: st.phase === 'Running' && (readyCond ? readyCond.status === 'True' : containersReady),
    podIP: st.podIP || undefined,
    hostIP: st.hostIP || undefined,
    nodeName: p.spec?.nodeName,
    hostNetwork: p.spec?.hostNetwork === true,
    containers: (p.spec?.containers ?? []).map((c) => c.name ?? '')
  }
}

/** Pods sorted by the ordinal at the end of their name (statefulset order), then by name. */
export function sortPods<T extends { name: string }>(pods: T[]): T[] {
  const ord = (n: string): number => {
    const m = /-(\d+)$/.exec(n)
    return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER
  }
  return [...pods].sort((a, b) => ord(a.name) - ord(b.name) || a.name.localeCompare(b.name))
}

const SERVER_METADATA = ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields', 'ownerReferences', 'generation', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']

/**
 * A copy of an object ready to be created in another cluster: server-managed metadata and
 * status removed, the last-applied annotation dropped, the namespace (or, for a Namespace,
 * the name) set to `namespace` when given.
 */
export function portable<T extends KubeObject>(obj: T, o: { namespace?: string } = {}): T {
  const copy = JSON.parse(JSON.stringify(obj)) as T
  delete (copy as Record<string, unknown>).status
  for (const k of SERVER_METADATA) delete copy.metadata[k]
  if (copy.metadata.annotations) {
    delete copy.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']
    if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations
  }
  if (o.namespace) {
    if (copy.kind === 'Namespace') {
      copy.metadata.name = o.namespace
      if (copy.metadata.labels?.['kubernetes.io/metadata.name']) copy.metadata.labels['kubernetes.io/metadata.name'] = o.namespace
    } else copy.metadata.namespace = o.namespace
  }
  return copy
}

/** Decoded secret data (utf8). */
export function secretValues(s: Secret): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8')
  return out
}
