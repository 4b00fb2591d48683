// @vercel/ncc ships no types; this is the part of its programmatic API that scripts/build.ts uses.
declare module '@vercel/ncc' {
  interface NccOptions {
    target?: string
    cache?: string | false
    quiet?: boolean
    minify?: boolean
    sourceMap?: boolean
    license?: string
    externals?: string[]
    transpileOnly?: boolean
  }
  interface NccAsset {
    source: Buffer | string
    permissions?: number
  }
  export default function ncc(entry: string, options?: NccOptions): Promise<{ code: string; assets: Record<string, NccAsset> }>
}
