// Unit tests of the Kubernetes double's wire pieces: SPDY/3.1 framing and header compression
// (checked against zlib as the Go peer uses it), the patch flavours and the selectors.
import { constants as zc, deflateSync, inflateSync } from 'node:zlib'
import {
  adler32,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameParser,
  HeaderDeflater,
  HeaderInflater,
  SPDY_DICTIONARY,
  synStreamFrame
} from '../../sandbox/kube/spdy.ts'
import { jsonPatch, mergePatch, strategicMergePatch } from '../../sandbox/kube/patch.ts'
import { humanDuration, parseFieldSelector, parseLabelSelector } from '../../sandbox/kube/resources.ts'

describe('SPDY/3 header compression', () => {
  it('builds the SPDY/3 dictionary (1423 bytes, the zlib dictionary id Go peers check)', () => {
    expect(SPDY_DICTIONARY.length).toBe(1423)
    expect(adler32(SPDY_DICTIONARY).toString(16)).toBe('e3c6a7c2')
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398)
  })

  it('our blocks inflate as one zlib stream with the dictionary, each block on its own', () => {
    const d = new HeaderDeflater()
    const b1 = d.deflate(encodeHeaderBlock({ streamtype: 'error' }))
    const b2 = d.deflate(encodeHeaderBlock({}))
    // a peer keeps one inflater and must get each block's bytes without reading past the frame
    const first = inflateSync(b1, { dictionary: SPDY_DICTIONARY, finishFlush: zc.Z_SYNC_FLUSH })
    expect(decodeHeaderBlock(first)).toEqual({ streamtype: ['error'] })
    const both = inflateSync(Buffer.concat([b1, b2]), { dictionary: SPDY_DICTIONARY, finishFlush: zc.Z_SYNC_FLUSH })
    expect(decodeHeaderBlock(both.subarray(first.length))).toEqual({})
    // every block ends with the sync-flush marker (an empty stored block)
    expect(b1.subarray(-5).toString('hex')).toBe('000000ffff')
    expect(b2.subarray(-5).toString('hex')).toBe('000000ffff')
  })

  it('inflates blocks from a real compressing peer (zlib with the dictionary, sync flush per block)', () => {
    // what Go's compress/zlib writer emits: one stream, flushed after each header block
    const raw1 = encodeHeaderBlock({ streamtype: 'stdout' })
    const raw2 = encodeHeaderBlock({ streamtype: 'stderr', multi: ['a', 'b'] })
    const whole = deflateSync(Buffer.concat([raw1, raw2]), { dictionary: SPDY_DICTIONARY, level: 9 })
    // a single-shot stream split at an arbitrary point is still a valid prefix for the inflater
    const inf = new HeaderInflater()
    const cut = Math.floor(whole.length / 2)
    const out = Buffer.concat([inf.inflate(whole.subarray(0, cut)), inf.inflate(whole.subarray(cut))])
    expect(decodeHeaderBlock(out.subarray(0, raw1.length))).toEqual({ streamtype: ['stdout'] })
    expect(decodeHeaderBlock(out.subarray(raw1.length))).toEqual({ streamtype: ['stderr'], multi: ['a', 'b'] })
  })

  it('rejects a truncated header block', () => {
    expect(() => decodeHeaderBlock(encodeHeaderBlock({ a: 'bcd' }).subarray(0, 10))).toThrow(/truncated/)
  })
})

describe('SPDY frame parser', () => {
  it('reassembles frames split at any byte and keeps their order', () => {
    const d = new HeaderDeflater()
    const bytes = Buffer.concat([
      synStreamFrame(1, d.deflate(encodeHeaderBlock({ streamtype: 'error' }))),
      dataFrame(1, Buffer.from('hello'), false),
      dataFrame(1, Buffer.alloc(0), true)
    ])
    for (const step of [1, 3, 7, bytes.length]) {
      const p = new FrameParser()
      const frames = []
      for (let i = 0; i < bytes.length; i += step) frames.push(...p.push(bytes.subarray(i, i + step)))
      expect(frames.map((f) => (f.control ? `ctl${f.type}` : `data${f.streamId}:${f.data.toString()}:${f.flags & FLAG_FIN}`))).toEqual([
        'ctl1',
        'data1:hello:0',
        'data1::1'
      ])
    }
  })
})

describe('patches', () => {
  const deploy = {
    metadata: { name: 'd', annotations: { a: '1', b: '2' } },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'x', image: 'x:1' }, { name: 'y', image: 'y:1' }] } } }
  }
  it('merge patch (RFC 7386): null deletes, lists replace', () => {
    expect(mergePatch(deploy, { metadata: { annotations: { a: null, c: '3' } } })).toMatchObject({ metadata: { annotations: { b: '2', c: '3' } } })
    expect((mergePatch(deploy, { metadata: { annotations: { a: null } } }) as typeof deploy).metadata.annotations).not.toHaveProperty('a')
    expect((mergePatch(deploy, { spec: { template: { spec: { containers: [{ name: 'z' }] } } } }) as typeof deploy).spec.template.spec.containers).toEqual([{ name: 'z' }])
  })
  it('strategic merge patch merges containers by name and honours $patch: delete and $setElementOrder', () => {
    const out = strategicMergePatch(deploy, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'x' }, { name: 'y' }],
            containers: [{ name: 'y', image: 'y:2' }, { name: 'x', $patch: 'delete' }]
          }
        }
      }
    }) as typeof deploy
    expect(out.spec.template.spec.containers).toEqual([{ name: 'y', image: 'y:2' }])
  })
  it('JSON patch (RFC 6902)', () => {
    const out = jsonPatch(deploy, [
      { op: 'replace', path: '/spec/replicas', value: 0 },
      { op: 'add', path: '/metadata/annotations/mr-actions~1drill', value: 'x' },
      { op: 'remove', path: '/metadata/annotations/a' }
    ]) as typeof deploy
    expect(out.spec.replicas).toBe(0)
    expect(out.metadata.annotations).toEqual({ b: '2', 'mr-actions/drill': 'x' })
    expect(() => jsonPatch(deploy, [{ op: 'test', path: '/spec/replicas', value: 5 }])).toThrow(/test operation failed/)
  })
})

describe('selectors', () => {
  it('label selectors', () => {
    const sel = parseLabelSelector('app=apigee-cassandra,tier in (db, cache),!canary,env!=prod')
    expect(sel({ app: 'apigee-cassandra', tier: 'db' })).toBe(true)
    expect(sel({ app: 'apigee-cassandra', tier: 'web' })).toBe(false)
    expect(sel({ app: 'apigee-cassandra', tier: 'db', canary: 'y' })).toBe(false)
    expect(sel({ app: 'apigee-cassandra', tier: 'db', env: 'prod' })).toBe(false)
    expect(() => parseLabelSelector('a b c')).toThrow(/unable to parse/)
  })
  it('field selectors', () => {
    const sel = parseFieldSelector('metadata.name=p,status.phase!=Failed')
    expect(sel({ metadata: { name: 'p' }, status: { phase: 'Running' } })).toBe(true)
    expect(sel({ metadata: { name: 'p' }, status: { phase: 'Failed' } })).toBe(false)
  })
  it('ages print like kubectl', () => {
    expect([5, 119, 150, 3600 * 5 + 120, 86400 * 3].map(humanDuration)).toEqual(['5s', '119s', '2m30s', '5h2m', '3d'])
  })
})
