// The Azure connection settings an action reads: the cloud endpoints (inputs, else the topology's
// azure: section for sovereign clouds / private CAs) and the OIDC identity. Shared by every action
// that talks to ARM, so that they accept the same inputs with the same fallbacks.
import { existsSync, readFileSync } from 'node:fs'
import { ActionError } from '../errors.ts'
import { fallback as fb, type InputReader } from '../inputs.ts'
import { rules } from '../patterns.ts'
import type { Topology } from '../topology.ts'

export interface AzureInputs {
  endpoint: string
  authorityHost?: string
  /** PEM text of the extra CA. */
  ca?: string
  /** Where the CA came from (a path, or '(inline PEM)'), for the log. */
  caFrom?: string
  tenantId?: string
  clientId?: string
}

const httpsUrl = /^https:\/\/[^\s/?#]+(:\d+)?(\/[^\s?#]*)?$/

function readCa(inputs: InputReader, topology: Topology | undefined): { ca?: string; from?: string } {
  const v = inputs.string('azure-ca', { accepted: 'a path to a PEM file, or the PEM text itself', fallback: fb('topology azure.ca', topology?.azure.ca) })
  if (v === undefined) return {}
  const pem = v.includes('-----BEGIN') ? v : existsSync(v) ? readFileSync(v, 'utf8') : undefined
  if (pem === undefined) {
    inputs.fail(new ActionError(`input 'azure-ca': file '${v}' does not exist`, 'give the path of a PEM CA certificate (relative to the workspace) or the PEM text'))
    return {}
  }
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem)) {
    inputs.fail(new ActionError(`input 'azure-ca': '${v.includes('-----BEGIN') ? '(PEM text)' : v}' holds no PEM certificate`, 'give a PEM file with -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----'))
    return {}
  }
  return { ca: pem, from: v.includes('-----BEGIN') ? '(inline PEM)' : v }
}

/** Inputs azure-endpoint, azure-authority-host, azure-ca (topology azure.* as fallback), tenant-id, client-id. */
export function readAzureInputs(inputs: InputReader, topology: Topology | undefined): AzureInputs {
  const cloud = topology?.azure ?? {}
  const endpoint = inputs.string('azure-endpoint', { pattern: httpsUrl, accepted: 'an https URL such as https://management.azure.com', fallback: fb('topology azure.endpoint', cloud.endpoint), default: 'https://management.azure.com' }) ?? ''
  const authorityHost = inputs.string('azure-authority-host', { pattern: httpsUrl, accepted: 'an https URL such as https://login.microsoftonline.com', fallback: fb('topology azure.authorityHost', cloud.authorityHost) })
  const { ca, from: caFrom } = readCa(inputs, topology)
  const tenantId = inputs.string('tenant-id', { pattern: rules.tenant.re, accepted: rules.tenant.accepted })
  const clientId = inputs.string('client-id', { pattern: rules.tenant.re, accepted: 'the application (client) ID of the identity: a GUID' })
  // presence, not validity: a malformed tenant-id is reported once, not also as missing; and the
  // partner is only asked for once the one given is valid (one mistake, one error)
  if (inputs.given('tenant-id') !== inputs.given('client-id') && (tenantId ?? clientId) !== undefined) {
    const missing = inputs.given('tenant-id') ? 'client-id' : 'tenant-id'
    inputs.fail(new ActionError(`input '${missing}' is required when '${missing === 'tenant-id' ? 'client-id' : 'tenant-id'}' is set`, 'OIDC federation needs both the tenant and the client (application) ID; leave both empty to use an azure/login session'))
  }
  return { endpoint, authorityHost, ca, caFrom, tenantId, clientId }
}
