// The sandbox traffic world: helloworld-style regional services behind per-region ingress gateways
// that are real Envoy processes, configured from Istio's objects in the Kubernetes API doubles,
// with Chaos Mesh's HTTPChaos as a fault, and ground truth from Envoy's admin API.
//
//   const world = await TrafficWorld.start({ regions: { eastus: { weight: 90, replicas: 2 },
//                                                       westeurope: { weight: 10, replicas: 2 } } })
//   world.attachKube(eastCluster, 'eastus', { namespace: 'apigee', name: 'helloworld' })
//   ... kubectl scale deployment/helloworld --replicas=0 ... -> world.truth records it
//   await world.close()
export { TrafficWorld, POD_PORT, type TrafficWorldOptions, type RegionSpec, type WorkloadHost, type GroundTruthEvent } from './world.ts'
export { EnvoyGateway, type HostState } from './envoy.ts'
export { translate, defaultObjects, type IstioObjects, type MeshEndpoint } from './istio.ts'
export { Replica, type ReplicaOptions, type ReplicaFault } from './replica.ts'
