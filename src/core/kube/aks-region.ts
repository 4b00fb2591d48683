// A region's AKS cluster (regions.<r>.aks in the topology) as a Kubectl: the Azure inputs
// (client-id, tenant-id, azure-*) read once per reader, the session (ARM kubeconfig, kubelogin)
// opened on the first kubectl call. region.ts (inputs <role>-context / -kubeconfig first) and
// verify-failover (every region it reads) use it.
import type { InputReader } from '../inputs.ts'
import type { Region, Topology } from '../topology.ts'
import { readAzureInputs, type AzureInputs } from '../azure/settings.ts'
import { Kubectl } from './kubectl.ts'
import { aksProblems, aksSession } from './aks.ts'

// One reading of the Azure inputs per reader: source and target share them, and a bad input is
// reported once.
const azureRead = new WeakMap<InputReader, AzureInputs>()
function azureInputsOnce(inputs: InputReader, topology: Topology | undefined, at: string): AzureInputs {
  let a = azureRead.get(inputs)
  if (!a) {
    a = readAzureInputs(inputs, topology)
    azureRead.set(inputs, a)
    for (const p of aksProblems(a, at)) inputs.fail(p)
  }
  return a
}

/**
 * The AKS cluster of a region with `aks:` in the topology, reached through ARM and kubelogin with
 * the Azure inputs (client-id, tenant-id, azure-*); undefined for a region without `aks:`. The
 * session opens on the first kubectl call: keep one Kubectl per region.
 */
export function aksKube(inputs: InputReader, region: Region | undefined, o: { topology?: Topology; bin?: string } = {}): Kubectl | undefined {
  const aks = region?.aks
  if (!aks || !region) return undefined
  const where = `topology regions.${region.name}.aks`
  return new Kubectl({
    bin: o.bin,
    label: `region ${region.name} (AKS ${aks.name})`,
    cluster: `/subscriptions/${aks.subscription}/resourceGroups/${aks.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${aks.name}`.toLowerCase(),
    session: aksSession(aks, azureInputsOnce(inputs, o.topology, where), where)
  })
}
