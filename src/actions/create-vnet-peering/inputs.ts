// The inputs of create-vnet-peering, each with its topology fallback. All problems are collected
// and reported together before anything is read from or written to Azure.
import { ActionError } from '../../core/errors.ts'
import type { InputReader } from '../../core/inputs.ts'
import { rules } from '../../core/patterns.ts'
import { fromRegion, readTopologyInput, type Region, regionOf, type Topology } from '../../core/topology.ts'
import type { PeeringOptions, Role, Side } from '../../core/azure/peering-plan.ts'
import { readAzureInputs, type AzureInputs } from '../../core/azure/settings.ts'

export interface PeeringConfig {
  /** create (peer + open ports) or remove (delete both peerings and our rules: a region's decommission) */
  mode: 'create' | 'remove'
  source: Side
  target: Side
  options: PeeringOptions
  ports: number[]
  timeoutMs: number
  dryRun: boolean
  azure: AzureInputs
  topology?: Topology
}

function readSide(inputs: InputReader, role: Role, region: Region | undefined): Omit<Side, 'peeringName'> {
  const az = region?.azure ?? {}
  return {
    role,
    subscription: inputs.requiredString(`${role}-subscription`, { pattern: rules.subscription.re, accepted: rules.subscription.accepted, fallback: fromRegion(region, 'azure.subscription', az.subscription) }),
    resourceGroup: inputs.requiredString(`${role}-resource-group`, { pattern: rules.resourceGroup.re, accepted: rules.resourceGroup.accepted, fallback: fromRegion(region, 'azure.resourceGroup', az.resourceGroup) }),
    vnet: inputs.requiredString(`${role}-vnet`, { pattern: rules.azureName.re, accepted: rules.azureName.accepted, fallback: fromRegion(region, 'azure.vnet', az.vnet) }),
    nsg: inputs.string(`${role}-nsg`, { pattern: rules.azureName.re, accepted: rules.azureName.accepted, fallback: fromRegion(region, 'azure.nsg', az.nsg) })
  }
}

function peeringName(inputs: InputReader, role: Role, from: string, to: string): string {
  const input = `${role}-peering-name`
  const explicit = inputs.string(input, { pattern: rules.azureName.re, accepted: rules.azureName.accepted })
  if (explicit !== undefined) return explicit
  if (!from || !to) return ''
  const name = `${from}-to-${to}`
  if (!rules.azureName.re.test(name)) {
    inputs.fail(new ActionError(`input '${input}': the default name '${name}' is not a valid peering name (more than 80 characters?)`, `set '${input}' explicitly: ${rules.azureName.accepted}`))
    return ''
  }
  return name
}

export function readPeeringInputs(inputs: InputReader): PeeringConfig {
  // Where the world is described: a topology file and two regions, or everything as inputs.
  const { path: topologyPath, topology } = readTopologyInput(inputs)
  const regionNames = {
    source: inputs.string('source-region', { pattern: rules.region.re, accepted: rules.region.accepted, required: topologyPath !== undefined }),
    target: inputs.string('target-region', { pattern: rules.region.re, accepted: rules.region.accepted, required: topologyPath !== undefined })
  }
  const region = (role: Role): Region | undefined => {
    const n = regionNames[role]
    // a region that is missing, malformed or without a topology is reported once: the fields it
    // would have filled are not reported missing as well
    if (!n) {
      if (topologyPath !== undefined || inputs.given(`${role}-region`)) inputs.failTopology()
      return undefined
    }
    if (!topology) {
      if (topologyPath === undefined) inputs.failTopology(new ActionError(`input '${role}-region': '${n}' needs a topology file`, "set input 'topology', or give the subscription, resource group and vnet of each side as inputs"))
      return undefined
    }
    try {
      return regionOf(topology, n, `${role}-region`)
    } catch (e) {
      inputs.failTopology(e as ActionError)
      return undefined
    }
  }
  const sr = region('source')
  const tr = region('target')
  const sameRegion = regionNames.source !== undefined && regionNames.source === regionNames.target
  if (sameRegion) {
    inputs.fail(new ActionError(`inputs 'source-region' and 'target-region' are both '${regionNames.source}'`, 'peer two different regions'))
  }
  const s = readSide(inputs, 'source', sr)
  const t = readSide(inputs, 'target', tr)
  const source: Side = { ...s, peeringName: peeringName(inputs, 'source', s.vnet, t.vnet) }
  const target: Side = { ...t, peeringName: peeringName(inputs, 'target', t.vnet, s.vnet) }
  // (the same region twice is the same VNet twice: reported once, above)
  if (!sameRegion && source.subscription && source.subscription === target.subscription && source.resourceGroup.toLowerCase() === target.resourceGroup.toLowerCase() && source.vnet.toLowerCase() === target.vnet.toLowerCase() && source.vnet) {
    inputs.fail(new ActionError(`source and target are the same virtual network '${source.vnet}' in resource group '${source.resourceGroup}'`, 'name the VNet of each region'))
  }

  const options: PeeringOptions = {
    allowForwardedTraffic: inputs.bool('allow-forwarded-traffic', { default: false }),
    allowGatewayTransit: inputs.bool('allow-gateway-transit', { default: false }),
    useRemoteGateways: inputs.bool('use-remote-gateways', { default: false })
  }
  if (options.allowGatewayTransit && options.useRemoteGateways) {
    inputs.fail(new ActionError("inputs 'allow-gateway-transit' and 'use-remote-gateways' are both true", 'a VNet either shares its gateway (allow-gateway-transit) or uses the remote one (use-remote-gateways), not both'))
  }
  const ports = inputs.ports('ports', { default: [7000, 7001] })
  const timeoutMs = inputs.duration('timeout', { default: 600_000, minMs: 1000, maxMs: 6 * 3600_000 }) ?? 600_000
  const dryRun = inputs.bool('dry-run', { default: false })
  const mode = inputs.choice('mode', ['create', 'remove'] as const, { default: 'create' }) ?? 'create'

  // Cloud endpoints: inputs, else the topology's azure: section (sovereign clouds, private CAs).
  const azure = readAzureInputs(inputs, topology)
  inputs.done()
  return { mode, source, target, options, ports, timeoutMs, dryRun, azure, topology }
}
