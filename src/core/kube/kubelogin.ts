// kubelogin, the exec credential plugin AKS kubeconfigs run: finding it, converting the
// kubeconfig ARM returns to workload identity login (`kubelogin convert-kubeconfig -l
// workloadidentity`), and the environment kubectl (and so kubelogin) needs.
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import YAML from 'yaml'
import { ActionError } from '../errors.ts'
import { run } from '../exec.ts'

export const KUBELOGIN_MISSING_HINT =
  "add '- uses: azure/use-kubelogin@v1' (with kubelogin-version: v0.2.10) before this step, or put the kubelogin binary on PATH"

/** The kubelogin on PATH, or an error saying how to install it. */
export function findKubelogin(forWhat: string, path = process.env.PATH ?? ''): string {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    const p = join(dir, 'kubelogin')
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch {
      // next directory
    }
  }
  throw new ActionError(`kubelogin is not on PATH; it is needed to sign in to ${forWhat}`, KUBELOGIN_MISSING_HINT)
}

/** The public cloud's authority (instance discovery works there); anything else disables it. */
export const isPublicAuthority = (host: string | undefined): boolean => !host || /^https:\/\/login\.microsoftonline\.com\/?$/i.test(host)

/** kubelogin wants the authority host with a trailing slash. */
export const authorityWithSlash = (host: string): string => (host.endsWith('/') ? host : `${host}/`)

export interface ConvertOptions {
  clientId: string
  tenantId: string
  authorityHost?: string
}

/**
 * Rewrites the kubeconfig at `path` (in place, through kubelogin itself) to workload identity
 * login. kubelogin v0.2.10 does not carry --disable-instance-discovery into the exec arguments,
 * so it is added here for authorities other than the public cloud's (sovereign clouds, private
 * identity providers), where the public instance discovery endpoint does not know the host.
 */
export async function convertKubeconfig(bin: string, path: string, o: ConvertOptions): Promise<void> {
  const args = ['convert-kubeconfig', '--kubeconfig', path, '-l', 'workloadidentity', '--client-id', o.clientId, '--tenant-id', o.tenantId]
  if (o.authorityHost) args.push('--authority-host', authorityWithSlash(o.authorityHost))
  const res = await run(bin, args, { allowFailure: true })
  if (res.code !== 0) {
    throw new ActionError(`kubelogin convert-kubeconfig failed: ${(res.stderr || res.stdout).trim().split('\n').slice(-3).join(' ')}`, 'use kubelogin v0.2.10 or newer (azure/use-kubelogin@v1)')
  }
  if (!isPublicAuthority(o.authorityHost)) {
    writeFileSync(path, addExecArg(readFileSync(path, 'utf8'), '--disable-instance-discovery'), { mode: 0o600 })
  }
}

/** Adds an argument to every user's kubelogin exec section (once). */
export function addExecArg(kubeconfig: string, arg: string): string {
  const doc = YAML.parse(kubeconfig) as { users?: { user?: { exec?: { command?: string; args?: string[] } } }[] }
  for (const u of doc.users ?? []) {
    const exec = u.user?.exec
    if (!exec || !/kubelogin$/.test(exec.command ?? '')) continue
    exec.args = exec.args ?? []
    if (!exec.args.includes(arg)) exec.args.push(arg)
  }
  return YAML.stringify(doc)
}

/** The exec sections of a kubeconfig: what kubectl will run (for the log and for tests). */
export function execUsers(kubeconfig: string): { name: string; command?: string; args: string[] }[] {
  const doc = YAML.parse(kubeconfig) as { users?: { name?: string; user?: { exec?: { command?: string; args?: string[] } } }[] }
  return (doc.users ?? []).map((u) => ({ name: u.name ?? '', command: u.user?.exec?.command, args: u.user?.exec?.args ?? [] }))
}

export interface KubeloginEnvOptions extends ConvertOptions {
  /** AZURE_FEDERATED_TOKEN_FILE: the assertion kubelogin exchanges. */
  tokenFile: string
  /** PEM bundle for SSL_CERT_FILE when the authority uses a private CA. */
  caBundle?: string
}

/**
 * Environment for kubectl and the kubelogin it runs. The GitHub request variables are blanked:
 * kubelogin v0.2.10 would otherwise fetch a GitHub ID token itself for every kubectl call
 * (provider.go prefers them); the action's token file is fetched once per token lifetime instead.
 */
export function kubeloginEnv(o: KubeloginEnvOptions): Record<string, string> {
  return {
    AZURE_CLIENT_ID: o.clientId,
    AZURE_TENANT_ID: o.tenantId,
    ...(o.authorityHost ? { AZURE_AUTHORITY_HOST: authorityWithSlash(o.authorityHost) } : {}),
    AZURE_FEDERATED_TOKEN_FILE: o.tokenFile,
    ACTIONS_ID_TOKEN_REQUEST_URL: '',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: '',
    ...(o.caBundle ? { SSL_CERT_FILE: o.caBundle } : {})
  }
}
