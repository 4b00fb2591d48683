// Cluster access for a region with `aks:` in the topology: the kubeconfig comes from ARM
// (listClusterUserCredential, format exec) with the action's federated identity, is converted
// to kubelogin workload identity login, and every kubectl call runs with a fresh federated
// token file. Nothing is read from a kubeconfig secret and no az CLI is involved.
import * as core from '@actions/core'
import { existsSync, readFileSync } from 'node:fs'
import type { AzureInputs } from '../azure/settings.ts'
import { ActionError } from '../errors.ts'
import { writeSecretFile } from '../secrets.ts'
import type { RegionAks } from '../topology.ts'
import { FederatedTokenFile } from './federated-token.ts'
import type { KubeSession } from './kubectl.ts'
import { convertKubeconfig, execUsers, findKubelogin, kubeloginEnv } from './kubelogin.ts'

export const EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'

const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem']

/** The system CAs plus the extra one, for kubelogin's SSL_CERT_FILE (which replaces the system set). */
function caBundle(extra: string): string {
  const system = SYSTEM_CA_FILES.find((f) => existsSync(f))
  return writeSecretFile('ca-bundle.pem', `${system ? readFileSync(system, 'utf8') : ''}\n${extra}\n`)
}

/**
 * The problems that stop AKS access before anything runs (client/tenant missing, no way to get
 * an ID token), as errors naming the input and the fix; empty when it can go ahead.
 */
export function aksProblems(azure: AzureInputs, at: string, env: NodeJS.ProcessEnv = process.env): ActionError[] {
  const out: ActionError[] = []
  if (!azure.clientId || !azure.tenantId) {
    out.push(
      new ActionError(
        `inputs 'client-id' and 'tenant-id' are required to sign in to the AKS cluster of ${at}`,
        'give the application (client) ID and tenant ID of the identity whose federated credential trusts this repository (the same identity the ARM calls use)'
      )
    )
  }
  if (!(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) && !env.AZURE_FEDERATED_TOKEN_FILE) {
    out.push(new ActionError(`the job cannot request an OIDC token to sign in to the AKS cluster of ${at}`, "add 'permissions: id-token: write' to the job (or to the calling workflow)"))
  }
  return out
}

/**
 * A session opener for one AKS cluster, run once on the first kubectl call. `at` names the
 * topology field (regions.<r>.aks) for messages.
 */
export function aksSession(aks: RegionAks, azure: AzureInputs, at: string): () => Promise<KubeSession> {
  return async () => {
    const problems = aksProblems(azure, at)
    if (problems.length) throw problems[0]
    const clientId = azure.clientId as string
    const tenantId = azure.tenantId as string
    const bin = findKubelogin(`AKS cluster ${aks.name} (${at})`)
    core.info(`AKS cluster ${aks.name} (${at}): reading its user kubeconfig through ARM (listClusterUserCredential, format exec)`)
    const { listUserKubeconfig } = await import('../azure/aks.ts')
    const text = await listUserKubeconfig({ endpoint: azure.endpoint, authorityHost: azure.authorityHost, ca: azure.ca, clientId, tenantId }, aks, at)
    const kubeconfig = writeSecretFile('kubeconfig', text)
    await convertKubeconfig(bin, kubeconfig, { clientId, tenantId, authorityHost: azure.authorityHost })
    const users = execUsers(readFileSync(kubeconfig, 'utf8'))
    core.info(`kubeconfig ${kubeconfig} (0600): ${users.map((u) => `user ${u.name} runs ${[u.command, ...u.args].join(' ')}`).join('; ')}`)

    const given = process.env.AZURE_FEDERATED_TOKEN_FILE
    const canRequest = Boolean(process.env.ACTIONS_ID_TOKEN_REQUEST_URL && process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
    let tokens: FederatedTokenFile | undefined
    if (canRequest) {
      tokens = new FederatedTokenFile(writeSecretFile('federated-token', ''), { fetch: () => core.getIDToken(EXCHANGE_AUDIENCE), log: core.info })
    } else {
      core.info(`using the federated token file the runner provides (AZURE_FEDERATED_TOKEN_FILE=${given}); whoever projects it keeps it fresh`)
    }
    const env = kubeloginEnv({
      clientId,
      tenantId,
      authorityHost: azure.authorityHost,
      tokenFile: tokens?.path ?? (given as string),
      caBundle: azure.ca ? caBundle(azure.ca) : undefined
    })
    return { kubeconfig, env, beforeCall: tokens ? () => tokens.fresh() : undefined }
  }
}
