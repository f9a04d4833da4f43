// The fast unit layer (`npm run test:unit`): pure logic only — no processes,
// no ports, no AWS emulator — so it runs in seconds. `npm test` runs these
// too, through the main config in package.json (test/**/*.test.ts).
export default {
  extensions: { ts: 'commonjs' },
  nodeArguments: ['--import=tsx'],
  files: ['test/unit/**/*.test.ts'],
  timeout: '30s',
  workerThreads: true,
};
