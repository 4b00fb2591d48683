// A two-region Azure world on the ARM double, shared by the create-vnet-peering tests.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ArmDouble, startArmDouble } from '../../../sandbox/arm/server.ts'
import { runAction } from '../../../sandbox/runner.ts'

export const S1 = '11111111-1111-4111-8111-111111111111'
export const S2 = '22222222-2222-4222-8222-222222222222'

export interface TwoRegions {
  arm: ArmDouble
  east: ReturnType<ArmDouble['world']['addVnet']>
  west: ReturnType<ArmDouble['world']['addVnet']>
  inputs: Record<string, string>
}

/** vnet-east (S1, rg-east) and vnet-west (S2, rg-west), each with an NSG. */
export async function twoRegions(eastPrefixes = ['120.38.1.0/24'], westPrefixes = ['192.138.0.0/24']): Promise<TwoRegions> {
  const arm = await startArmDouble()
  const east = arm.world.addVnet({ subscription: S1, resourceGroup: 'rg-east', name: 'vnet-east', location: 'eastus', addressPrefixes: eastPrefixes })
  const west = arm.world.addVnet({ subscription: S2, resourceGroup: 'rg-west', name: 'vnet-west', location: 'westeurope', addressPrefixes: westPrefixes })
  arm.world.addNsg({ subscription: S1, resourceGroup: 'rg-east', name: 'nsg-east' })
  arm.world.addNsg({ subscription: S2, resourceGroup: 'rg-west', name: 'nsg-west', location: 'westeurope' })
  const inputs = {
    ...arm.inputs(),
    'source-subscription': S1,
    'source-resource-group': 'rg-east',
    'source-vnet': 'vnet-east',
    'source-nsg': 'nsg-east',
    'target-subscription': S2,
    'target-resource-group': 'rg-west',
    'target-vnet': 'vnet-west',
    'target-nsg': 'nsg-west',
    timeout: '60s'
  }
  return { arm, east, west, inputs }
}

export const TOPOLOGY = `
cassandra: { namespace: apigee, clusterName: apigeecluster }
regions:
  eastus:
    azure: { subscription: ${S1}, resourceGroup: rg-east, vnet: vnet-east, nsg: nsg-east }
    cassandra: { datacenter: dc-1 }
  westeurope:
    azure: { subscription: ${S2}, resourceGroup: rg-west, vnet: vnet-west, nsg: nsg-west }
    cassandra: { datacenter: dc-2 }
`

export function topologyFile(text = TOPOLOGY): string {
  const dir = mkdtempSync(join(tmpdir(), 'mr-topo-'))
  const path = join(dir, 'mr-topology.yml')
  writeFileSync(path, text)
  return path
}

export function run(arm: ArmDouble, inputs: Record<string, string>) {
  return runAction('create-vnet-peering', inputs, { env: arm.runnerEnv() })
}

/** The ::error:: line(s) the action printed (what the user sees as the failure). */
export function errorText(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('::error::'))
    .map((l) => l.slice('::error::'.length).replace(/%0A/g, '\n').replace(/%25/g, '%'))
    .join('\n')
}
