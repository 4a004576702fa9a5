// Jest runs in native ESM mode (NestJS 12 is ESM-only); @swc/jest strips types and keeps
// legacy decorators plus their metadata, which Nest's dependency injection reads.
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
      // `import … with { type: 'json' }` reaches Node as written (swc drops the attribute otherwise).
      experimental: { keepImportAttributes: true },
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^#contracts$': '<rootDir>/libs/contracts/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
export default {
  // testTimeout is a global option (ignored per project). End-to-end suites boot real servers,
  // which on a loaded 2-core CI machine can take seconds.
  testTimeout: 30_000,
  // Two workers even on two cores (Jest's default there is one, in band): most suites wait on
  // sockets, timers and child processes (gateways, emulators, Chromium) rather than compute.
  // Each ESM suite leaves its module registry behind in the process that ran it; a worker past
  // the limit after a suite is replaced, so no process grows for the whole run (in band, the
  // run needed an 8 GB heap).
  maxWorkers: 2,
  workerIdleMemoryLimit: '1GB',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/apps/api/src/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'] },
    // The admin console's services and page logic (apps/admin): Angular's own packages are native
    // ESM and run untransformed; components are exercised as classes in an injector (no DOM here:
    // rendering is what test/console/console.e2e-spec.ts checks in Chromium).
    {
      ...common,
      displayName: 'console',
      testMatch: ['<rootDir>/apps/admin/src/**/*.spec.ts'],
      setupFiles: ['<rootDir>/apps/admin/src/testing/setup.ts'],
    },
    // End-to-end suites boot real servers; on a loaded 2-core CI machine that can take seconds.
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      // Builds dist/ when stale, for the tests that run the gateway as a real process.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
