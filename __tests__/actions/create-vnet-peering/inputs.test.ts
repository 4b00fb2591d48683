// Unit: the cloud endpoints come from the inputs, else from the topology's azure: section.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InputErrors, type ActionError } from '../../../src/core/errors.ts'
import { InputReader } from '../../../src/core/inputs.ts'
import { readPeeringInputs } from '../../../src/actions/create-vnet-peering/inputs.ts'

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n'
const dir = mkdtempSync(join(tmpdir(), 'peering-inputs-'))
writeFileSync(join(dir, 'ca.pem'), PEM)

function topology(azure: string): string {
  const path = join(dir, `t-${Math.random().toString(36).slice(2)}.yml`)
  writeFileSync(
    path,
    `${azure}
regions:
  eastus: { azure: { subscription: 11111111-1111-4111-8111-111111111111, resourceGroup: rg-east, vnet: vnet-east } }
  westeurope: { azure: { subscription: 22222222-2222-4222-8222-222222222222, resourceGroup: rg-west, vnet: vnet-west } }
`
  )
  return path
}

const read = (values: Record<string, string>) => readPeeringInputs(new InputReader((n) => values[n] ?? ''))
const regions = { 'source-region': 'eastus', 'target-region': 'westeurope' }

describe('create-vnet-peering cloud endpoints', () => {
  it('fall back to the topology azure: section', () => {
    const cfg = read({ ...regions, topology: topology(`azure: { endpoint: 'https://127.0.0.1:8443', authorityHost: 'https://127.0.0.1:8444', ca: ${join(dir, 'ca.pem')} }`) })
    expect(cfg.azure).toMatchObject({ endpoint: 'https://127.0.0.1:8443', authorityHost: 'https://127.0.0.1:8444', ca: PEM, caFrom: join(dir, 'ca.pem') })
  })

  it('inputs win over the topology; without either, the public cloud', () => {
    const t = topology(`azure: { endpoint: 'https://127.0.0.1:8443', authorityHost: 'https://127.0.0.1:8444' }`)
    expect(read({ ...regions, topology: t, 'azure-endpoint': 'https://management.usgovcloudapi.net' }).azure).toMatchObject({ endpoint: 'https://management.usgovcloudapi.net', authorityHost: 'https://127.0.0.1:8444' })
    expect(read({ ...regions, topology: topology('') }).azure).toMatchObject({ endpoint: 'https://management.azure.com', authorityHost: undefined, ca: undefined })
  })

  it('a missing CA file named in the topology is an error before anything is read', () => {
    let err: unknown
    try {
      read({ ...regions, topology: topology(`azure: { ca: ${join(dir, 'nope.pem')} }`) })
    } catch (e) {
      err = e
    }
    const messages = err instanceof InputErrors ? err.errors.map((e) => e.message) : [(err as ActionError).message]
    expect(messages).toEqual([`input 'azure-ca': file '${join(dir, 'nope.pem')}' does not exist`])
  })
})
