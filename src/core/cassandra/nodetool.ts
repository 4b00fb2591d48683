// nodetool inside a Cassandra pod through `kubectl exec`. JMX credentials go in on stdin and
// become a 0600 `-pwf` file inside the pod for the duration of the command (never argv).
//
// API for other modules (rebuild, netstats):
//   const nt = new Nodetool({ kube, namespace, container }, creds)
//   await nt.run(pod, ['netstats'])                  -> RunResult (throws NodetoolError on failure)
//   await nt.shell(pod, 'nt rebuild -- "$1"', ['dc-1'])  a custom sh body; `nt` is nodetool with
//                                                    the credentials, "$@" the extra args
//   await nt.status(pod) / nt.describeCluster(pod)   parsed (see status.ts)
import { parseGossipInfo, type GossipEndpoint } from './gossip.ts'
import { ActionError } from '../errors.ts'
import type { RunResult } from '../exec.ts'
import { redact, registerSecret } from '../secrets.ts'
import type { Kubectl } from '../kube/kubectl.ts'
import { secretShell, secretStdin } from '../kube/podshell.ts'
import { parseDescribeCluster, parseStatus, type ClusterDescription, type RingNode } from './status.ts'

/** Where the Cassandra pods are: the cluster, their namespace and (optionally) the container. */
export interface CassandraPods {
  kube: Kubectl
  namespace: string
  container?: string
}

export interface Credentials {
  user: string
  password: string
}

export interface NodetoolRunOptions {
  timeoutMs?: number
  allowFailure?: boolean
  quiet?: boolean
  echoOutput?: boolean
}

export class NodetoolError extends ActionError {
  readonly result: RunResult
  readonly pod: string
  constructor(pod: string, args: string[], result: RunResult) {
    const out = redact(`${result.stderr}\n${result.stdout}`).trim().split('\n').filter(Boolean).slice(-8).join('\n')
    super(`nodetool ${args.join(' ')} failed in pod ${pod} (exit ${result.code})${out ? `:\n${out}` : ''}`, nodetoolHint(out))
    this.result = result
    this.pod = pod
  }
}

function nodetoolHint(out: string): string | undefined {
  if (/Authentication failed|Invalid username or password|Credentials required/i.test(out)) return 'check jmx.user / jmx.password in the credentials secret (or the jmx-* inputs)'
  if (/Connection refused|Failed to connect/i.test(out)) return 'JMX is not reachable in that pod: is Cassandra running there?'
  if (/Unable to find sufficient sources/i.test(out)) return 'the source datacenter name is wrong or its keyspaces do not replicate there'
  if (/still rebuilding/i.test(out)) return 'a rebuild is already running on that node: watch `nodetool netstats`'
  return undefined
}

export class Nodetool {
  readonly pods: CassandraPods
  readonly creds?: Credentials
  readonly bin: string
  constructor(pods: CassandraPods, creds?: Credentials, o: { bin?: string } = {}) {
    this.pods = pods
    this.creds = creds
    this.bin = o.bin ?? 'nodetool'
    if (creds) registerSecret(creds.password)
  }

  /** The sh script and stdin that run `body` with a shell function `nt` = authenticated nodetool. */
  script(body: string): { script: string; stdin: string } {
    if (!this.creds) return { script: secretShell([], `nt() { ${this.bin} "$@"; }\n${body}`), stdin: '' }
    if (/\s/.test(this.creds.password) || /\s/.test(this.creds.user)) {
      // nodetool reads the -pwf file as whitespace-separated "user password" pairs.
      throw new ActionError('the JMX user or password contains whitespace, which nodetool -pwf cannot read', 'use JMX credentials without spaces')
    }
    return {
      script: secretShell(
        ['U', 'P'],
        `printf '%s %s\\n' "$U" "$P" > "$d/jmx"\nnt() { ${this.bin} -u "$U" -pwf "$d/jmx" "$@"; }\n${body}`
      ),
      stdin: secretStdin([this.creds.user, this.creds.password])
    }
  }

  /** Runs a custom sh body in the pod (see the header); args become "$@". */
  async shell(pod: string, body: string, args: string[] = [], o: NodetoolRunOptions = {}): Promise<RunResult> {
    const { script, stdin } = this.script(body)
    const res = await this.pods.kube.exec(this.pods.namespace, pod, ['sh', '-c', script, 'sh', ...args], {
      container: this.pods.container,
      stdin,
      timeoutMs: o.timeoutMs,
      allowFailure: true,
      quiet: o.quiet,
      echoOutput: o.echoOutput
    })
    if (res.code !== 0 && !o.allowFailure) throw new NodetoolError(pod, args, res)
    return res
  }

  /** `nodetool ARGS` in the pod. */
  run(pod: string, args: string[], o: NodetoolRunOptions = {}): Promise<RunResult> {
    return this.shell(pod, 'nt "$@"', args, o)
  }

  async status(pod: string, o: NodetoolRunOptions = {}): Promise<RingNode[]> {
    return parseStatus((await this.run(pod, ['status'], o)).stdout)
  }

  async describeCluster(pod: string, o: NodetoolRunOptions = {}): Promise<ClusterDescription> {
    return parseDescribeCluster((await this.run(pod, ['describecluster'], o)).stdout)
  }

  async gossipInfo(pod: string, o: NodetoolRunOptions = {}): Promise<GossipEndpoint[]> {
    return parseGossipInfo((await this.run(pod, ['gossipinfo'], o)).stdout)
  }
}

/** Keys of the vendor's datastore credentials secret. */
export const CREDENTIAL_KEYS = { jmxUser: 'jmx.user', jmxPassword: 'jmx.password', ddlUser: 'ddl.user', ddlPassword: 'ddl.password' }

export interface DatastoreCredentials {
  jmx?: Credentials
  ddl?: Credentials
}

/**
 * A username key of the vendor's layout (`admin.user`, `ddl.user`, `dml.user`, `jmx.user`,
 * `jolokia.user`): not a secret, and often a common word (the Jolokia user defaults to `apigee`,
 * the namespace's name), so it is never masked or refused in argv. Every other key is a secret.
 */
export function isUsernameKey(key: string): boolean {
  return key.endsWith('.user')
}

/**
 * Reads jmx.* and ddl.* from the credentials secret (passwords, and every other non-username
 * key, registered as secrets at once). Missing secret or keys -> an error naming the secret,
 * the keys and the fix.
 */
export async function readDatastoreCredentials(
  kube: Kubectl,
  namespace: string,
  secretName: string,
  need: { jmx?: boolean; ddl?: boolean }
): Promise<DatastoreCredentials> {
  const s = await kube.getSecret(namespace, secretName, isUsernameKey)
  if (!s) {
    throw new ActionError(
      `credentials secret '${secretName}' not found in namespace '${namespace}' on ${kube.label}`,
      "create it (the vendor's install does) or set input 'credentials-secret' / topology cassandra.credentialsSecret to the right name"
    )
  }
  const data: Record<string, string> = {}
  for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8').replace(/\r?\n$/, '')
  const out: DatastoreCredentials = {}
  const missing: string[] = []
  const pick = (u: string, p: string): Credentials | undefined => {
    if (!data[u]) missing.push(u)
    if (!data[p]) missing.push(p)
    return data[u] && data[p] ? { user: data[u], password: data[p] } : undefined
  }
  if (need.jmx) out.jmx = pick(CREDENTIAL_KEYS.jmxUser, CREDENTIAL_KEYS.jmxPassword)
  if (need.ddl) out.ddl = pick(CREDENTIAL_KEYS.ddlUser, CREDENTIAL_KEYS.ddlPassword)
  if (missing.length) {
    throw new ActionError(
      `credentials secret '${namespace}/${secretName}' on ${kube.label} lacks key(s) ${missing.join(', ')}`,
      `add them to the secret (keys ${Object.values(CREDENTIAL_KEYS).join(', ')})`
    )
  }
  return out
}
