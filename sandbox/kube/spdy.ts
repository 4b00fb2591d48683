// SPDY/3.1 framing, as much as kubectl's exec needs (the server side of moby/spdystream, which
// client-go uses): frame codec, zlib header-block compression with the SPDY/3 dictionary, and a
// session that accepts the client's streams, replies to them and carries their data both ways.
// No flow control: spdystream neither sends nor honours WINDOW_UPDATE.
import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { constants as zc, inflateSync } from 'node:zlib'

export const SPDY_VERSION = 3
export const FRAME = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const
export const FLAG_FIN = 0x01
export const FLAG_UNIDIRECTIONAL = 0x02
export const RST = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6 } as const

// The SPDY/3 header-compression dictionary (draft 3, section 2.6.10.1): these words, each with a
// 32-bit big-endian length in front, then the tail as it is.
const DICTIONARY_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding',
  'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection',
  'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location',
  'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host',
  'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified',
  'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via',
  'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url',
  'public', 'set-cookie', 'keep-alive', 'origin'
]
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.'

export const SPDY_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_WORDS.map((w) => {
    const b = Buffer.alloc(4 + w.length)
    b.writeUInt32BE(w.length, 0)
    b.write(w, 4, 'latin1')
    return b
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1')
])

export function adler32(buf: Buffer): number {
  let a = 1
  let b = 0
  for (const byte of buf) {
    a = (a + byte) % 65521
    b = (b + a) % 65521
  }
  return ((b << 16) | a) >>> 0
}

export type Headers = Record<string, string[]>

/** Uncompressed name/value block: count, then (length, name, length, values joined by NUL). */
export function encodeHeaderBlock(headers: Record<string, string | string[]>): Buffer {
  const parts: Buffer[] = []
  const names = Object.keys(headers)
  const count = Buffer.alloc(4)
  count.writeUInt32BE(names.length, 0)
  parts.push(count)
  for (const name of names) {
    const raw = headers[name]
    const value = Array.isArray(raw) ? raw.join('\0') : raw
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, 'utf8')
      const len = Buffer.alloc(4)
      len.writeUInt32BE(b.length, 0)
      parts.push(len, b)
    }
  }
  return Buffer.concat(parts)
}

export function decodeHeaderBlock(buf: Buffer): Headers {
  const headers: Headers = {}
  let off = 0
  const need = (n: number): void => {
    if (off + n > buf.length) throw new Error('SPDY header block truncated')
  }
  need(4)
  const count = buf.readUInt32BE(off)
  off += 4
  for (let i = 0; i < count; i++) {
    need(4)
    const nlen = buf.readUInt32BE(off)
    off += 4
    need(nlen)
    const name = buf.toString('utf8', off, off + nlen).toLowerCase()
    off += nlen
    need(4)
    const vlen = buf.readUInt32BE(off)
    off += 4
    need(vlen)
    const value = buf.toString('utf8', off, off + vlen)
    off += vlen
    headers[name] = [...(headers[name] ?? []), ...value.split('\0')]
  }
  return headers
}

/**
 * Compresses header blocks for one direction of a connection. The peer keeps one zlib stream per
 * connection, so the first block carries the zlib header (with the dictionary's id) and every block
 * is a run of non-final stored deflate blocks ending in an empty one (a sync flush): valid deflate
 * that needs no compressor state.
 */
export class HeaderDeflater {
  private started = false

  deflate(raw: Buffer): Buffer {
    const parts: Buffer[] = []
    if (!this.started) {
      this.started = true
      const cmf = 0x78
      let flg = 0x20 | 0xc0 // FDICT, FLEVEL=3
      flg += 31 - ((cmf * 256 + flg) % 31)
      const id = Buffer.alloc(4)
      id.writeUInt32BE(adler32(SPDY_DICTIONARY), 0)
      parts.push(Buffer.from([cmf, flg]), id)
    }
    for (let off = 0; off < raw.length; off += 0xffff) {
      const chunk = raw.subarray(off, off + 0xffff)
      const head = Buffer.alloc(5)
      head[0] = 0x00 // BFINAL=0, BTYPE=00 (stored)
      head.writeUInt16LE(chunk.length, 1)
      head.writeUInt16LE(~chunk.length & 0xffff, 3)
      parts.push(head, chunk)
    }
    // An empty stored block, as a zlib sync flush ends with: it makes the peer's inflater hand
    // out what it has without reading past this frame (Go's flate otherwise reads on into the
    // next block header and fails at the end of the frame).
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]))
    return Buffer.concat(parts)
  }
}

/**
 * Decompresses header blocks for one direction of a connection. Each block continues the same zlib
 * stream (the sender sync-flushes after each); Node has no synchronous stateful inflate, so this
 * re-inflates the (small, few) blocks seen so far and returns the new output.
 */
export class HeaderInflater {
  private compressed: Buffer[] = []
  private produced = 0

  inflate(block: Buffer): Buffer {
    this.compressed.push(block)
    const out = inflateSync(Buffer.concat(this.compressed), { dictionary: SPDY_DICTIONARY, finishFlush: zc.Z_SYNC_FLUSH })
    const fresh = out.subarray(this.produced)
    this.produced = out.length
    return fresh
  }
}

export interface ControlFrame {
  control: true
  type: number
  flags: number
  payload: Buffer
}
export interface DataFrame {
  control: false
  streamId: number
  flags: number
  data: Buffer
}
export type Frame = ControlFrame | DataFrame

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0)
  head.writeUInt16BE(type, 2)
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4)
  return Buffer.concat([head, payload])
}

export function dataFrame(streamId: number, data: Buffer, fin: boolean): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(streamId & 0x7fffffff, 0)
  head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4)
  return Buffer.concat([head, data])
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length)
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i))
  return b
}

export function synStreamFrame(streamId: number, compressedHeaders: Buffer, flags = 0): Buffer {
  // stream id, associated-to id, priority (3 bits) + unused, slot
  return controlFrame(FRAME.SYN_STREAM, flags, Buffer.concat([u32s(streamId & 0x7fffffff, 0), Buffer.from([0, 0]), compressedHeaders]))
}
export function synReplyFrame(streamId: number, compressedHeaders: Buffer, flags = 0): Buffer {
  return controlFrame(FRAME.SYN_REPLY, flags, Buffer.concat([u32s(streamId & 0x7fffffff), compressedHeaders]))
}
export function rstStreamFrame(streamId: number, status: number): Buffer {
  return controlFrame(FRAME.RST_STREAM, 0, u32s(streamId & 0x7fffffff, status))
}
export function pingFrame(id: number): Buffer {
  return controlFrame(FRAME.PING, 0, u32s(id))
}
export function goAwayFrame(lastGoodStreamId: number, status = 0): Buffer {
  return controlFrame(FRAME.GOAWAY, 0, u32s(lastGoodStreamId & 0x7fffffff, status))
}

/** Splits a byte stream into frames; feed it chunks as they arrive. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    const frames: Frame[] = []
    while (this.buf.length >= 8) {
      const length = this.buf.readUInt32BE(4) & 0xffffff
      if (this.buf.length < 8 + length) break
      const flags = this.buf[4]
      const body = Buffer.from(this.buf.subarray(8, 8 + length))
      if (this.buf[0] & 0x80) {
        const version = this.buf.readUInt16BE(0) & 0x7fff
        if (version !== SPDY_VERSION) throw new Error(`unsupported SPDY version ${version}`)
        frames.push({ control: true, type: this.buf.readUInt16BE(2), flags, payload: body })
      } else {
        frames.push({ control: false, streamId: this.buf.readUInt32BE(0) & 0x7fffffff, flags, data: body })
      }
      this.buf = this.buf.subarray(8 + length)
    }
    return frames
  }
}

/** One stream opened by the client. Emits 'data' (Buffer), 'end' (client half-closed), 'reset'. */
export class SpdyStream extends EventEmitter {
  readonly id: number
  readonly headers: Headers
  private readonly session: SpdySession
  localClosed = false
  remoteClosed = false

  constructor(session: SpdySession, id: number, headers: Headers) {
    super()
    this.session = session
    this.id = id
    this.headers = headers
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0]
  }

  /** Sends data to the client; cb runs when the socket took it (back-pressure). */
  write(data: Buffer, cb?: (err?: Error | null) => void): void {
    if (this.localClosed) {
      cb?.(new Error(`SPDY stream ${this.id} already closed`))
      return
    }
    // spdystream accepts frames up to 16 MiB; keep them modest.
    for (let off = 0; off < data.length; off += 0x8000) {
      const last = off + 0x8000 >= data.length
      this.session.send(dataFrame(this.id, data.subarray(off, off + 0x8000), false), last ? cb : undefined)
    }
    if (data.length === 0) cb?.()
  }

  /** Half-closes our side (empty DATA frame with FIN). */
  end(cb?: () => void): void {
    if (this.localClosed) {
      cb?.()
      return
    }
    this.localClosed = true
    this.session.send(dataFrame(this.id, Buffer.alloc(0), true), cb)
  }

  reset(status: number = RST.CANCEL): void {
    this.localClosed = true
    this.remoteClosed = true
    this.session.send(rstStreamFrame(this.id, status))
  }
}

/**
 * The server end of a SPDY/3.1 connection on an upgraded socket. Every SYN_STREAM from the client
 * is accepted and answered with an empty SYN_REPLY, then announced with 'stream'. Emits 'close'
 * when the socket ends, 'goaway' when the client says it is done, 'error' for protocol errors.
 */
export class SpdySession extends EventEmitter {
  readonly socket: Duplex
  readonly streams = new Map<number, SpdyStream>()
  private readonly parser = new FrameParser()
  private readonly inflater = new HeaderInflater()
  private readonly deflater = new HeaderDeflater()
  private lastClientStream = 0
  closed = false

  constructor(socket: Duplex, head?: Buffer) {
    super()
    this.socket = socket
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', () => this.shutdown())
    socket.on('close', () => this.shutdown())
    socket.on('end', () => this.shutdown())
    if (head && head.length) queueMicrotask(() => this.onData(head))
  }

  send(frame: Buffer, cb?: (err?: Error | null) => void): void {
    if (this.closed || this.socket.destroyed) {
      cb?.(new Error('SPDY connection closed'))
      return
    }
    this.socket.write(frame, cb)
  }

  /** Says goodbye (GOAWAY) and ends the socket once written. */
  close(): void {
    if (this.closed) return
    this.send(goAwayFrame(this.lastClientStream))
    this.socket.end()
    this.shutdown()
  }

  destroy(): void {
    this.socket.destroy()
    this.shutdown()
  }

  private shutdown(): void {
    if (this.closed) return
    this.closed = true
    for (const s of this.streams.values()) {
      if (!s.remoteClosed) {
        s.remoteClosed = true
        s.emit('end')
      }
    }
    this.emit('close')
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[]
    try {
      frames = this.parser.push(chunk)
    } catch (err) {
      this.fail(err as Error)
      return
    }
    for (const frame of frames) {
      try {
        this.onFrame(frame)
      } catch (err) {
        this.fail(err as Error)
        return
      }
    }
  }

  private fail(err: Error): void {
    this.emit('protocolError', err)
    this.send(goAwayFrame(this.lastClientStream, 1))
    this.destroy()
  }

  private onFrame(frame: Frame): void {
    if (!frame.control) {
      const stream = this.streams.get(frame.streamId)
      if (!stream || stream.remoteClosed) return // late data for a stream we no longer have
      if (frame.data.length) stream.emit('data', frame.data)
      if (frame.flags & FLAG_FIN) {
        stream.remoteClosed = true
        stream.emit('end')
      }
      return
    }
    const p = frame.payload
    switch (frame.type) {
      case FRAME.SYN_STREAM: {
        const id = p.readUInt32BE(0) & 0x7fffffff
        const headers = decodeHeaderBlock(this.inflater.inflate(p.subarray(10)))
        if (id === 0 || id % 2 === 0 || id <= this.lastClientStream) {
          this.send(rstStreamFrame(id, RST.PROTOCOL_ERROR))
          return
        }
        this.lastClientStream = id
        const stream = new SpdyStream(this, id, headers)
        this.streams.set(id, stream)
        if (frame.flags & FLAG_FIN) stream.remoteClosed = true
        if (frame.flags & FLAG_UNIDIRECTIONAL) stream.localClosed = true
        this.send(synReplyFrame(id, this.deflater.deflate(encodeHeaderBlock({}))))
        this.emit('stream', stream)
        if (stream.remoteClosed) stream.emit('end')
        return
      }
      case FRAME.HEADERS:
        // keep the shared zlib stream in step even though nothing here needs the headers
        this.inflater.inflate(p.subarray(4))
        return
      case FRAME.RST_STREAM: {
        const stream = this.streams.get(p.readUInt32BE(0) & 0x7fffffff)
        if (stream) {
          stream.localClosed = true
          if (!stream.remoteClosed) {
            stream.remoteClosed = true
            stream.emit('end')
          }
          stream.emit('reset', p.readUInt32BE(4))
        }
        return
      }
      case FRAME.PING:
        // client pings are odd; echo them back
        if (p.readUInt32BE(0) % 2 === 1) this.send(pingFrame(p.readUInt32BE(0)))
        return
      case FRAME.GOAWAY:
        this.emit('goaway')
        return
      case FRAME.SYN_REPLY:
        this.inflater.inflate(p.subarray(4))
        return
      default:
        return // SETTINGS, WINDOW_UPDATE and unknown frames are ignored
    }
  }
}
