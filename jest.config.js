// ESM + TypeScript through ts-jest (transpile only; `npm run typecheck` does the type check).
// Sources import with .ts specifiers so that Node 24 also runs them directly (type stripping).
import { readFileSync } from 'node:fs'

const tsconfig = JSON.parse(readFileSync(new URL('./tsconfig.json', import.meta.url), 'utf8')).compilerOptions

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: { ...tsconfig, rewriteRelativeImportExtensions: false } }]
  },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 120000
}
