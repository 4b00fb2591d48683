// nodetool gossipinfo as Cassandra 4.1 / 5.0 print it (Gossiper.getEndpointStateMap: "/address",
// then "  generation:N", "  heartbeat:N" and "  KEY:version:value" per application state).
import { datacenterAddresses, endpointHost, leftEndpoints, parseGossipInfo } from '../../../src/core/cassandra/gossip.ts'

const TEXT = `/127.26.1.1
  generation:1796455000
  heartbeat:812
  STATUS:22:NORMAL,-9052375232498458063
  LOAD:801:175932.0
  SCHEMA:310:91a2160a-e23f-3def-a0b2-9cb0eb40f50d
  DC:8:dc-1
  RACK:10:ra-1
  STATUS_WITH_PORT:21:NORMAL,-9052375232498458063
/127.26.2.1
  generation:1796455100
  heartbeat:640
  STATUS:705:LEFT,-8711223590317062290,1796714400000
  DC:8:dc-2
  RACK:10:ra-1
  STATUS_WITH_PORT:704:LEFT,-8711223590317062290,1796714400000
/127.26.3.1:7000
  generation:1796455200
  heartbeat:10
  STATUS_WITH_PORT:30:NORMAL,1
  DC:8:dc-3
`

describe('nodetool gossipinfo', () => {
  it('reads each endpoint and its application states (values without their version)', () => {
    const g = parseGossipInfo(TEXT)
    expect(g.map((e) => e.endpoint)).toEqual(['127.26.1.1', '127.26.2.1', '127.26.3.1:7000'])
    expect(g[0].states).toMatchObject({ DC: 'dc-1', RACK: 'ra-1', STATUS: 'NORMAL,-9052375232498458063' })
    expect(g[1].states.STATUS_WITH_PORT).toBe('LEFT,-8711223590317062290,1796714400000')
  })
  it("finds a datacenter's nodes that left the ring; none for a name gossip does not know, or for live nodes", () => {
    const g = parseGossipInfo(TEXT)
    expect(leftEndpoints(g, 'dc-2')).toEqual(['127.26.2.1'])
    expect(leftEndpoints(g, 'dc-1')).toEqual([])
    expect(leftEndpoints(g, 'dc-3')).toEqual([])
    expect(leftEndpoints(g, 'DC-2')).toEqual([])
  })
  it("lists every address of a datacenter, whatever its status, without the port", () => {
    const g = parseGossipInfo(TEXT)
    expect(datacenterAddresses(g, 'dc-2')).toEqual(['127.26.2.1'])
    expect(datacenterAddresses(g, 'dc-3')).toEqual(['127.26.3.1'])
    expect(datacenterAddresses(g, 'dc-9')).toEqual([])
    expect([endpointHost('[fd00::1]:7000'), endpointHost('fd00::1'), endpointHost('10.0.0.1')]).toEqual(['fd00::1', 'fd00::1', '10.0.0.1'])
  })
  it('refuses text that is not gossipinfo', () => {
    expect(() => parseGossipInfo('nodetool: Failed to connect to 127.0.0.1:7199')).toThrow(/not nodetool gossipinfo/)
    expect(parseGossipInfo('')).toEqual([])
  })
})
