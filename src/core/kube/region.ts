// Reading "where a region's Cassandra pods are" from inputs with topology fallbacks: the kube
// context / kubeconfig of a region, the namespace, the pod selector and container.
import { fallback, type InputReader } from '../inputs.ts'
import { rules } from '../patterns.ts'
import { fromRegion, type Region, type Topology } from '../topology.ts'
import { Kubectl, type PodInfo, sortPods } from './kubectl.ts'
import { aksKube } from './aks-region.ts'
import { ActionError } from '../errors.ts'


/**
 * `<role>-context` and `<role>-kubeconfig` inputs; when both are empty and the region has
 * `aks:`, the cluster is reached through ARM and kubelogin (see aks.ts); else regions.<r>.kube.*.
 */
export function readKube(inputs: InputReader, role: string, region: Region | undefined, o: { topology?: Topology; bin?: string } = {}): Kubectl {
  const aks = region?.aks
  const context = inputs.string(`${role}-context`, { pattern: rules.kubeContext.re, accepted: rules.kubeContext.accepted, fallback: fromRegion(region, 'kube.context', aks ? undefined : region?.kube.context) })
  const kubeconfig = inputs.string(`${role}-kubeconfig`, { accepted: 'the path of a kubeconfig file', fallback: fromRegion(region, 'kube.kubeconfig', aks ? undefined : region?.kube.kubeconfig) })
  if (aks && region && context === undefined && kubeconfig === undefined) return aksKube(inputs, region, o)!
  return new Kubectl({ context, kubeconfig, bin: o.bin, label: region ? `region ${region.name}${context ? ` (context ${context})` : ''}` : context ? `context ${context}` : `${role} cluster` })
}

export function readNamespace(inputs: InputReader, topo: Topology | undefined, input = 'namespace'): string {
  return inputs.requiredString(input, { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted, fallback: fallback('topology cassandra.namespace', topo?.cassandra.namespace), default: 'apigee' })
}

/** The Cassandra pods of a region (statefulset order); fails clearly when there are none. */
export async function cassandraPods(kube: Kubectl, namespace: string, selector: string): Promise<PodInfo[]> {
  const pods = sortPods(await kube.getPods(namespace, selector))
  if (pods.length === 0) {
    throw new ActionError(
      `no Cassandra pods match '${selector}' in namespace '${namespace}' on ${kube.label}`,
      "check the kube context, the namespace and the 'pod-selector' input"
    )
  }
  return pods
}

/** The first ready pod, or an error listing the pods and their phase. */
export function readyPod(pods: PodInfo[], kube: Kubectl): PodInfo {
  const p = pods.find((x) => x.ready)
  if (!p) {
    throw new ActionError(
      `no Cassandra pod is ready on ${kube.label}: ${pods.map((x) => `${x.name} ${x.phase}${x.ready ? '' : ' (not ready)'}`).join(', ')}`,
      'wait until the pods are Running and Ready (kubectl get pods), then re-run'
    )
  }
  return p
}
