// One build for every action: each entry becomes dist/<action>/index.js (and post.js), and code
// shared between actions lands once in dist/chunks/. See the README for why not ncc.
import commonjs from '@rollup/plugin-commonjs'
import json from '@rollup/plugin-json'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import typescript from '@rollup/plugin-typescript'
import { existsSync, readdirSync } from 'node:fs'

const input = {}
for (const name of readdirSync('src/actions')) {
  for (const [file, out] of [['index.ts', 'index'], ['post.ts', 'post']]) {
    const path = `src/actions/${name}/${file}`
    if (existsSync(path)) input[`${name}/${out}`] = path
  }
}

export default {
  input,
  output: {
    dir: 'dist',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    sourcemap: false,
    // Some CommonJS dependencies call require() at run time; give ESM bundles a real one.
    banner: "import { createRequire as __mrCreateRequire } from 'node:module'; const require = __mrCreateRequire(import.meta.url);"
  },
  plugins: [
    typescript({ tsconfig: 'tsconfig.json', noEmit: false, noEmitOnError: true, declaration: false, include: ['src/**/*.ts'], outDir: 'dist' }),
    nodeResolve({ preferBuiltins: true, exportConditions: ['node'] }),
    commonjs(),
    json()
  ],
  onwarn(warning, warn) {
    if (warning.code === 'CIRCULAR_DEPENDENCY' && /node_modules/.test(warning.ids?.[0] ?? '')) return
    if (warning.code === 'THIS_IS_UNDEFINED') return
    warn(warning)
  }
}
