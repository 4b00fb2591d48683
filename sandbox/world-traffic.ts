// The traffic part of the sandbox world: per region a helloworld service whose replica count
// belongs to a Deployment in that region's Kubernetes API double (so the real `kubectl scale`,
// and verify-failover's scale-to-zero fault, start and stop replicas), and per region an ingress
// gateway that is a real Envoy configured from Istio's objects in that cluster
// (sandbox/traffic). It runs inside the world daemon because the Kubernetes doubles live there.
// Clients use the primary gateway's URL; the world's observations are on a small loopback server:
//   GET  <adminUrl>/truth      ground truth: Envoy's ejections, each region's capacity, pushes
//   GET  <adminUrl>/replicas   running helloworld replicas per region
//   GET  <adminUrl>/gateways   every gateway's URL and Envoy admin URL
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TrafficWorld, type RegionSpec, type WorkloadHost } from './traffic/index.ts'

export interface WorldTrafficOptions {
  /** Keyed by the world's region names (eastus, westeurope, ...). */
  regions: Record<string, RegionSpec>
  /** Deployment name in every region (default helloworld) and its namespace (default apigee). */
  deployment?: string
  namespace?: string
  /** Istio's DestinationRule outlierDetection of the installed objects; null: none. */
  outlierDetection?: Record<string, unknown> | null
  endpointDelayMs?: number
  readyDelayMs?: number
}

export interface WorldTrafficState {
  /** The primary region's ingress gateway (Envoy). */
  url: string
  /** The world's observations (truth, replicas, gateways). */
  adminUrl: string
  deployment: string
  namespace: string
  regions: Record<string, RegionSpec>
}

export interface WorldTraffic {
  state: WorldTrafficState
  world: TrafficWorld
  close(): Promise<void>
}

/** Starts the services and the gateways and hands each region's replica count to its cluster. */
export async function startWorldTraffic(o: WorldTrafficOptions, clusters: Record<string, WorkloadHost>): Promise<WorldTraffic> {
  const missing = Object.keys(o.regions).filter((r) => !clusters[r])
  if (missing.length) throw new Error(`traffic: no region cluster for ${missing.join(', ')} (clusters: ${Object.keys(clusters).join(', ')})`)
  const deployment = o.deployment ?? 'helloworld'
  const namespace = o.namespace ?? 'apigee'
  const world = await TrafficWorld.start({
    regions: o.regions,
    service: deployment,
    namespace,
    outlierDetection: o.outlierDetection,
    endpointDelayMs: o.endpointDelayMs ?? 100,
    readyDelayMs: o.readyDelayMs ?? 100
  })
  for (const region of world.regions()) world.attachKube(clusters[region], region, { namespace, name: deployment })
  const server: Server = createServer((req, res) => {
    req.resume()
    const body =
      req.url === '/truth'
        ? world.truth
        : req.url === '/replicas'
          ? Object.fromEntries([...world.replicas].map(([r, list]) => [r, list.length]))
          : req.url === '/gateways'
            ? Object.fromEntries([...world.gateways].map(([r, g]) => [r, { url: g.url, admin: g.adminUrl }]))
            : undefined
    if (body === undefined) res.writeHead(404).end()
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    state: { url: world.url, adminUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, deployment, namespace, regions: o.regions },
    world,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await world.close()
    }
  }
}
