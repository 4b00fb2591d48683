// The sandbox traffic world: helloworld-style regional services behind a weighted ingress with
// endpoint-based failover and outlier detection, and ground truth of every outage.
//
//   const world = await TrafficWorld.start({ regions: { eastus: { weight: 90, replicas: 2 },
//                                                       westeurope: { weight: 10, replicas: 2 } } })
//   world.attachKube(eastCluster, 'eastus', { namespace: 'apigee', name: 'helloworld' })
//   ... kubectl scale deployment/helloworld --replicas=0 ... -> world.ingress.truth records it
//   await world.close()
export { TrafficWorld, type TrafficWorldOptions, type RegionSpec, type WorkloadHost } from './world.ts'
export { Ingress, type IngressConfig, type OutlierDetection, type GroundTruthEvent, type Endpoint } from './ingress.ts'
export { Replica, type ReplicaOptions } from './replica.ts'
