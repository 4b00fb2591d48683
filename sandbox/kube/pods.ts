// Pods as the world registers them: the Pod object (status as a kubelet reports it), its Node, and
// the handle through which the world changes readiness, phase, restarts, exec and logs.
import { clone, now, type Obj } from './errors.ts'
import type { Store } from './store.ts'
import type { ContainerOptions, KubeObject, PodHandle, PodOptions } from './types.ts'

export function addPod(s: Store, o: PodOptions): PodHandle {
  const ns = o.namespace ?? 'default'
  s.ensureNamespace(ns)
  const t = s.typeFor('pods')
  const hostIP = o.hostIP ?? o.podIP
  const nodeName = o.nodeName ?? `node-${hostIP.replace(/[.:]/g, '-')}`
  ensureNode(s, nodeName, hostIP)
  const containers = o.containers ?? [{ name: 'main' }]
  const started = now()
  const ready = o.ready ?? true
  const phase = o.phase ?? 'Running'
  const pod: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: ns,
      ...(o.labels && Object.keys(o.labels).length ? { labels: o.labels } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.ownerReferences ? { ownerReferences: o.ownerReferences } : {})
    },
    spec: {
      containers: containerSpecs(containers),
      nodeName,
      hostNetwork: o.hostNetwork ?? hostIP === o.podIP,
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30
    },
    status: {}
  }
  pod.status = podStatus(pod, { phase, ready, hostIP, podIP: o.podIP, started, restarts: 0 })
  const k = s.key(t, ns, o.name)
  if (s.stored(t, ns, o.name)) s.commit(t, ns, o.name, undefined, 'DELETED')
  const created = s.create(t, ns, pod as KubeObject, false) as Obj
  created.status = pod.status
  s.commit(t, ns, o.name, created as KubeObject, 'MODIFIED')
  s.pods.set(k, { ready, exec: o.exec, logs: o.logs, onDelete: o.onDelete })
  return podHandle(s, ns, o.name)!
}

export function podHandle(s: Store, namespace: string, name: string): PodHandle | undefined {
  const t = s.typeFor('pods')
  const cur = s.stored(t, namespace, name) as Obj | undefined
  const rt = s.pods.get(s.key(t, namespace, name))
  if (!cur || !rt) return undefined
  const cluster = s
  const status = (f: (s: Obj) => void): void => {
    const stored = cluster.stored(t, namespace, name) as Obj | undefined
    if (!stored || cluster.pods.get(cluster.key(t, namespace, name)) !== rt) return // deleted or replaced
    const obj = clone(stored)
    f(obj.status)
    obj.status = podStatus(obj, {
      phase: obj.status.phase,
      ready: rt.ready,
      hostIP: obj.status.hostIP,
      podIP: obj.status.podIP,
      started: obj.status.startTime,
      restarts: obj.status.containerStatuses?.[0]?.restartCount ?? 0
    })
    cluster.commit(t, namespace, name, obj as KubeObject, 'MODIFIED')
  }
  return {
    namespace,
    name,
    object: () => clone(cluster.stored(t, namespace, name) ?? (cur as KubeObject)),
    setReady: (r) => {
      rt.ready = r
      status(() => {})
    },
    setPhase: (p) => status((s) => void (s.phase = p)),
    setExec: (h) => void (rt.exec = h),
    setLogs: (l) => void (rt.logs = l),
    restarted: () => status((s) => void (s.containerStatuses = (s.containerStatuses as Obj[]).map((c) => ({ ...c, restartCount: (c.restartCount ?? 0) + 1 })))),
    remove: () => {
      if (cluster.pods.get(cluster.key(t, namespace, name)) !== rt) return // already deleted or replaced
      if (cluster.stored(t, namespace, name)) cluster.commit(t, namespace, name, undefined, 'DELETED')
      cluster.pods.delete(cluster.key(t, namespace, name))
    }
  }
}

function ensureNode(s: Store, name: string, ip: string): void {
  const t = s.typeFor('nodes')
  if (s.stored(t, '', name)) return
  const node: Obj = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
    spec: {},
    status: {}
  }
  const created = s.create(t, '', node as KubeObject, false) as Obj
  created.status = {
    addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() }],
    nodeInfo: { kubeletVersion: s.opts.gitVersion ?? 'v1.29.4', operatingSystem: 'linux', architecture: 'amd64' }
  }
  s.commit(t, '', name, created as KubeObject, 'MODIFIED')
}

// ---------------------------------------------------------------- programmatic access

export function containerSpecs(containers: ContainerOptions[]): Obj[] {
  return containers.map((c) => ({
    name: c.name,
    image: c.image ?? `sandbox/${c.name}:latest`,
    imagePullPolicy: 'IfNotPresent',
    ...(c.ports?.length ? { ports: c.ports.map((p) => ({ containerPort: p, protocol: 'TCP' })) } : {}),
    ...(c.env ? { env: Object.entries(c.env).map(([name, value]) => ({ name, value })) } : {}),
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File'
  }))
}

function podStatus(pod: Obj, s: { phase: string; ready: boolean; hostIP: string; podIP: string; started: string; restarts: number }): Obj {
  const running = s.phase === 'Running'
  const ready = running && s.ready
  const cond = (type: string, ok: boolean): Obj => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: s.started })
  return {
    phase: s.phase,
    conditions: [cond('Initialized', true), cond('Ready', ready), cond('ContainersReady', ready), cond('PodScheduled', true)],
    hostIP: s.hostIP,
    podIP: s.podIP,
    podIPs: [{ ip: s.podIP }],
    startTime: s.started,
    containerStatuses: (pod.spec.containers as Obj[]).map((c) => ({
      name: c.name,
      state: running ? { running: { startedAt: s.started } } : s.phase === 'Pending' ? { waiting: { reason: 'ContainerCreating' } } : { terminated: { exitCode: s.phase === 'Succeeded' ? 0 : 1, reason: s.phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: s.started, finishedAt: now() } },
      lastState: {},
      ready,
      restartCount: s.restarts,
      image: c.image,
      imageID: `docker-pullable://${c.image}`,
      containerID: `containerd://${Buffer.from(`${pod.metadata.namespace}/${pod.metadata.name}/${c.name}`).toString('hex').slice(0, 64).padEnd(64, '0')}`,
      started: running
    })),
    qosClass: 'BestEffort'
  }
}
