// The traffic part of the sandbox world: per region a helloworld service whose replica count
// belongs to a Deployment in that region's Kubernetes API double (so the real `kubectl scale`,
// and verify-failover's scale-to-zero fault, start and stop replicas), and one ingress in front.
// It runs inside the world daemon because the Kubernetes doubles live there; clients reach it over
// loopback HTTP through the ingress's admin endpoints:
//   GET  <url>/__admin/config     weights, failover/outlier settings, endpoints per region
//   GET  <url>/__admin/truth      ground truth: when each region lost / regained capacity
//   GET  <url>/__admin/replicas   running helloworld replicas per region
//   POST <url>/__admin/failing/<region>/(on|off)   pods stay up but answer 503
import { TrafficWorld, type RegionSpec, type WorkloadHost } from './traffic/index.ts'
import type { OutlierDetection } from './traffic/ingress.ts'

export interface WorldTrafficOptions {
  /** Keyed by the world's region names (eastus, westeurope, ...). */
  regions: Record<string, RegionSpec>
  /** Deployment name in every region (default helloworld) and its namespace (default apigee). */
  deployment?: string
  namespace?: string
  outlierDetection?: OutlierDetection | null
  endpointDelayMs?: number
  readyDelayMs?: number
  seed?: number
}

export interface WorldTrafficState {
  /** The ingress: every region is served behind this one URL. */
  url: string
  deployment: string
  namespace: string
  regions: Record<string, RegionSpec>
}

export interface WorldTraffic {
  state: WorldTrafficState
  world: TrafficWorld
  close(): Promise<void>
}

/** Starts the services and the ingress and hands each region's replica count to its cluster. */
export async function startWorldTraffic(o: WorldTrafficOptions, clusters: Record<string, WorkloadHost>): Promise<WorldTraffic> {
  const missing = Object.keys(o.regions).filter((r) => !clusters[r])
  if (missing.length) throw new Error(`traffic: no region cluster for ${missing.join(', ')} (clusters: ${Object.keys(clusters).join(', ')})`)
  const deployment = o.deployment ?? 'helloworld'
  const namespace = o.namespace ?? 'apigee'
  const world = await TrafficWorld.start({
    regions: o.regions,
    outlierDetection: o.outlierDetection,
    endpointDelayMs: o.endpointDelayMs ?? 100,
    readyDelayMs: o.readyDelayMs ?? 100,
    seed: o.seed
  })
  for (const region of world.regions()) world.attachKube(clusters[region], region, { namespace, name: deployment })
  const failing = world.ingress.onAdmin
  world.ingress.onAdmin = (method, path) => {
    if (method === 'GET' && path === '/__admin/replicas') return Object.fromEntries([...world.replicas].map(([r, list]) => [r, list.length]))
    return failing?.(method, path)
  }
  return {
    state: { url: world.url, deployment, namespace, regions: o.regions },
    world,
    close: () => world.close()
  }
}
